/** The schemas every feature's schemas build on: names, instants, days, path parameters, lists, errors. */
import { Type, type TLiteral, type TSchema, type TSchemaOptions, type TUnion } from 'typebox';

/**
 * The name of a resource, as its path names it (`/v1/systems/:name`): the one rule for every name
 * that a path addresses, whether it comes in a path, a body or a manifest (`lethe apply`), so that
 * whatever is stored can be addressed again.
 */
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
export const Name = Type.String({
  pattern: NAME_PATTERN,
  description: 'letters, digits, ".", "_", "-", starting with a letter or digit; at most 128 characters',
});
const NAME = new RegExp(NAME_PATTERN);
/** The rule of `Name` for a name met outside a schema (the `name@version` of a stream event). */
export function isName(text: string): boolean {
  return NAME.test(text);
}
/** ISO 8601 instant on the wire, e.g. 2023-01-05T10:00:00Z. */
export const Instant = Type.String({ description: 'ISO 8601 instant in UTC, e.g. 2023-01-05T10:00:00Z' });
/** A calendar day, YYYY-MM-DD (UTC). */
export const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (UTC)' });
/**
 * The largest request body the server takes (`413 PAYLOAD_TOO_LARGE`), except telemetry and stream
 * events; `lethe apply` checks a manifest file against it before reading the file whole.
 */
export const BODY_LIMIT_BYTES = 1024 * 1024;
const strict = { additionalProperties: false } as const;

/**
 * The one rule for ids that enter Lethe from outside (subject ids, event ids, key-link values,
 * rights-request identifiers): well-formed text without control characters. A lone surrogate
 * (`"\ud800"` in JSON) has no UTF-8 form: SQLite would store invalid UTF-8 that no lookup finds
 * again, the PostgreSQL driver silently turns it into U+FFFD (two ids become one); PostgreSQL
 * refuses NUL outright. Control characters (C0, DEL, C1) are never part of an id someone means.
 *
 * Written for both regex modes: Ajv and TypeBox compile schema patterns with the `u` flag (a
 * surrogate pair is one code point outside the refused ranges), `lib/id-rule.ts` checks ids with the
 * same pattern without it (a pair is the second alternative); a lone surrogate fails either way.
 */
export const ID_PATTERN =
  '^(?:[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])+$';
export const ID_DESCRIPTION = 'text without control characters or lone surrogates';

/**
 * Free text kept as given (a consent record's proof): any characters but NUL, which PostgreSQL
 * refuses in text, and lone surrogates; the same two-mode form as `ID_PATTERN`.
 */
export const TEXT_PATTERN = '^(?:[^\\u0000\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])*$';

/** An id of 1 to `maxLength` characters under the id rule (`ID_PATTERN`). */
export const Id = (maxLength: number, description = ID_DESCRIPTION) =>
  Type.String({ minLength: 1, maxLength, pattern: ID_PATTERN, description });

/** A data subject's id, as telemetry, consent, erasures, stream keys and rights requests name it. */
export const SubjectId = Id(256, `the subject's id: ${ID_DESCRIPTION}`);

/**
 * A whole number in a query string (`limit`, `after`): every numeric query parameter uses this.
 * Ajv coerces "Infinity" and "1e309" to Infinity and then skips `minimum`/`maximum`, which it only
 * checks on finite numbers; the inner `type` runs on the coerced number and refuses it.
 */
export const QueryInteger = (options: {
  minimum: number;
  maximum?: number;
  default?: number;
  description?: string;
}) => Type.Integer({ ...options, allOf: [{ type: 'integer' }] });

/** Why a person did something (a policy change, an extension): kept with it and in the audit log. */
export const REASON_MAX_LENGTH = 2000;
export const Reason = Type.String({ minLength: 1, maxLength: REASON_MAX_LENGTH });

export const NameParams = Type.Object({ name: Name }, strict);
export const SubjectParams = Type.Object({ subject: SubjectId }, strict);

export const ListOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item) });
export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    requestId: Type.Optional(Type.String()),
    details: Type.Optional(Type.Unknown()),
  }),
});

/**
 * One of a list of string values (`REQUEST_TYPES`): an `anyOf` of `const`s on the wire, which the
 * refusal of a value outside it names (`must be one of dsar, delete, delete_pii`), typed as the
 * union of the values. TypeBox types `Type.Union` of a mapped array as `never`; this keeps the tuple.
 */
export const Literals = <const T extends readonly string[]>(values: T, options?: TSchemaOptions) =>
  Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  ) as unknown as TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;
