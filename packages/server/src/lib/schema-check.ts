import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { Settings } from 'typebox/system';

/**
 * A `@lethe/api` schema checked outside an HTTP route (NDJSON and CSV lines, batch items, manifest
 * files), with its problems in the words these rejections have always used: TypeBox 0.34's
 * (`/subject: Expected string length less or equal to 256`, `/colour: Unexpected property`).
 * TypeBox 1 reports Ajv-shaped errors (`keyword`, `params`, "must NOT have more than 256
 * characters"); `problems` reads them back into one problem per offending value, in the same order
 * (the object's type, required keys, unknown keys, then each property in schema order), so that
 * `problems(value)[0]` is the problem 0.34's `Errors(value).First()` named.
 */
export interface SchemaCheck<T> {
  check(value: unknown): value is T;
  /** Every problem of a value `check` refused, first the one a rejection names. */
  problems(value: unknown): SchemaProblem[];
}

export interface SchemaProblem {
  /** JSON Pointer of the offending value (`/events/0/subject`); '' for the value itself. */
  readonly path: string;
  readonly kind: 'required' | 'unexpected' | 'pattern' | 'other';
  readonly message: string;
  /** The offending value (undefined for a missing one). */
  readonly value: unknown;
  /** The schema it broke: the property's for a missing one, the object's for an unknown key. */
  readonly schema: Readonly<Record<string, unknown>>;
}

export function compileCheck<T extends TSchema>(schema: T): SchemaCheck<Static<T>> {
  const validator = Compile(schema);
  return {
    check: (value): value is Static<T> => validator.Check(value),
    problems: (value) =>
      allErrors(() => validator.Errors(value)).flatMap((error) => read(schema, value, error)),
  };
}

/** TypeBox keeps 8 errors by default; the problem named first may come after them (a union's). */
function allErrors(collect: () => TLocalizedValidationError[]): TLocalizedValidationError[] {
  const { maxErrors } = Settings.Get();
  Settings.Set({ maxErrors: Number.MAX_SAFE_INTEGER });
  try {
    return collect();
  } finally {
    Settings.Set({ maxErrors });
  }
}

function read(root: TSchema, value: unknown, error: TLocalizedValidationError): SchemaProblem[] {
  // A union's alternatives each fail on their own; 0.34 said it once, for the union.
  if (error.schemaPath.includes('/anyOf/')) return [];
  const node = pointer(root, error.schemaPath.replace(/^#/, ''));
  const schema = (typeof node === 'object' && node !== null ? node : {}) as Record<string, unknown>;
  const at = (path: string, kind: SchemaProblem['kind'], message: string, of = schema): SchemaProblem => ({
    path,
    kind,
    message,
    value: pointer(value, path),
    schema: of,
  });
  const { params } = error as { params: Record<string, unknown> };
  const limit = params['limit'];
  if ('const' in schema) return [at(error.instancePath, 'other', literal(schema['const']))];
  switch (error.keyword) {
    case 'required': {
      const properties = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
      return (params['requiredProperties'] as string[]).map((key) =>
        at(`${error.instancePath}/${escape(key)}`, 'required', 'Expected required property', properties[key]),
      );
    }
    case 'boolean':
      // `additionalProperties: false` refusing a key: `additionalProperties` below names them all.
      return [];
    case 'additionalProperties':
      return (params['additionalProperties'] as string[]).map((key) =>
        at(`${error.instancePath}/${escape(key)}`, 'unexpected', 'Unexpected property'),
      );
    case 'type':
      return [at(error.instancePath, 'other', `Expected ${String(params['type'])}`)];
    case 'anyOf':
      return [at(error.instancePath, 'other', 'Expected union value')];
    case 'pattern':
      return [at(error.instancePath, 'pattern', `Expected string to match '${String(schema['pattern'])}'`)];
    case 'minLength':
      return [at(error.instancePath, 'other', `Expected string length greater or equal to ${String(limit)}`)];
    case 'maxLength':
      return [at(error.instancePath, 'other', `Expected string length less or equal to ${String(limit)}`)];
    case 'minItems':
      return [
        at(error.instancePath, 'other', `Expected array length to be greater or equal to ${String(limit)}`),
      ];
    case 'maxItems':
      return [
        at(error.instancePath, 'other', `Expected array length to be less or equal to ${String(limit)}`),
      ];
    case 'minimum':
      return [
        at(
          error.instancePath,
          'other',
          `Expected ${numeric(schema)} to be greater or equal to ${String(limit)}`,
        ),
      ];
    case 'maximum':
      return [
        at(
          error.instancePath,
          'other',
          `Expected ${numeric(schema)} to be less or equal to ${String(limit)}`,
        ),
      ];
    case 'minProperties':
      return [
        at(error.instancePath, 'other', `Expected object to have at least ${String(limit)} properties`),
      ];
    case 'maxProperties':
      return [
        at(error.instancePath, 'other', `Expected object to have no more than ${String(limit)} properties`),
      ];
    default:
      return [at(error.instancePath, 'other', error.message)];
  }
}

/** 0.34's words for a literal: `Expected 'scrape'`, `Expected 1`. */
function literal(constant: unknown): string {
  return `Expected ${typeof constant === 'string' ? `'${constant}'` : String(constant)}`;
}

function numeric(schema: Record<string, unknown>): string {
  return schema['type'] === 'integer' ? 'integer' : 'number';
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The node at a JSON Pointer (`/a/0/b`), or undefined. */
function pointer(node: unknown, path: string): unknown {
  let current = node;
  for (const segment of path.split('/').slice(1)) {
    if (current === null || typeof current !== 'object') return undefined;
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    current = Object.hasOwn(current, key) ? (current as Record<string, unknown>)[key] : undefined;
  }
  return current;
}
