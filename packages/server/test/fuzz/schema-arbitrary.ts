import fc from 'fast-check';

/** The part of JSON Schema the server's TypeBox schemas publish in the OpenAPI document. */
export interface JsonSchema {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly anyOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
}

/**
 * Strings the server knows: `general` for any string, `byKey` for a property of that name (or
 * the items of an array property of that name): `subject` draws subjects, `fields` field names.
 * Subject ids are never general words, so they appear only where a subject belongs.
 */
export interface Words {
  readonly general: readonly string[];
  readonly byKey: Readonly<Record<string, readonly string[]>>;
}

/** Generated strings and arrays stay short: long ones come from the mutations, on purpose. */
const MAX_STRING = 24;
const MAX_ITEMS = 3;

/**
 * A value the schema accepts, most of the time: strings are drawn from `words` (the names the
 * server holds: systems, subjects, categories…) when one fits, so that a generated request
 * reaches something that exists instead of stopping at "not found". A schema without a type
 * (`items: {}`) gets any JSON value; the seeds give such routes their meaningful bodies.
 */
export function arbitraryOf(schema: JsonSchema, words: Words, key?: string): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((option) => arbitraryOf(option, words, key)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = schema.type ?? schema.allOf?.find((part) => part.type)?.type;
  switch (type) {
    case 'string':
      return stringOf(schema, (key === undefined ? undefined : words.byKey[key]) ?? words.general);
    case 'integer':
      return integerOf(schema);
    case 'number':
      return fc.double({
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(arbitraryOf(schema.items ?? {}, words, key), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? MAX_ITEMS, MAX_ITEMS)),
      });
    case 'object':
      return objectOf(schema, words);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringOf(schema: JsonSchema, words: readonly string[]): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? Number.MAX_SAFE_INTEGER;
  const pattern = schema.pattern === undefined ? undefined : new RegExp(schema.pattern, 'u');
  const fits = words.filter(
    (word) => word.length >= min && word.length <= max && (pattern === undefined || pattern.test(word)),
  );
  const random = pattern
    ? // Repeated up to the minimum and cut at the maximum: a filter would spin for `^[A-Z]+$` of 22+.
      fc
        .stringMatching(pattern)
        .map((value) =>
          value === '' ? value : value.repeat(Math.ceil(min / value.length) || 1).slice(0, max),
        )
    : fc.string({ minLength: min, maxLength: Math.max(min, Math.min(max, MAX_STRING)) });
  return fits.length === 0
    ? random
    : fc.oneof({ arbitrary: fc.constantFrom(...fits), weight: 3 }, { arbitrary: random, weight: 1 });
}

function integerOf(schema: JsonSchema): fc.Arbitrary<number> {
  const min = schema.minimum ?? -10;
  const max = schema.maximum ?? 1_000_000;
  // Small values reach existing rows (task 1, version 1); the whole range reaches the bounds.
  return fc.oneof(fc.integer({ min, max: Math.min(max, min + 5) }), fc.integer({ min, max }));
}

function objectOf(schema: JsonSchema, words: Words): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const required = schema.required ?? [];
  const known = fc.record(
    Object.fromEntries(
      Object.entries(properties).map(([key, value]) => [key, arbitraryOf(value, words, key)]),
    ),
    { requiredKeys: required.filter((key) => key in properties) },
  );
  const extra = schema.additionalProperties;
  if (typeof extra !== 'object') return known;
  // A map (`purposes: {"marketing.email": true}`): keys from the words, so they name real things.
  const keys = fc.oneof(fc.constantFrom(...words.general), fc.string());
  return fc
    .tuple(known, fc.dictionary(keys, arbitraryOf(extra, words), { maxKeys: MAX_ITEMS }))
    .map(([fixed, more]) => ({ ...more, ...fixed }));
}
