import type { TSchema, TStringOptions } from 'typebox';

/**
 * The keywords of a `@lethe/api` string schema (`maxLength`, `pattern`, `description`), for the
 * code that applies the API's limits outside a schema check. TypeBox 1 types `Type.String(options)`
 * without its options; they are on the schema all the same.
 */
export function stringOptions(schema: TSchema): TStringOptions {
  return schema as TStringOptions;
}
