/**
 * The event schema of a contract: a subset of JSON Schema 2020-12, small enough that every failure
 * maps onto one of the stable rejection codes: `type`, `properties`, `required`,
 * `additionalProperties`, `items`, the string, number, array and object bounds, `enum`, `const` and
 * the annotations. Combinators (`anyOf`, `oneOf`, `allOf`, `not`, `if`), references and `format`
 * are refused: their failures do not say which attribute is wrong. An object schema that does not
 * say `additionalProperties` is closed, so extra attributes are rejected, as the contract promises.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { isAttributeName, pointerToPath } from './attribute-path.js';
import { ContractError } from './contract-error.js';
import { isPlainObject } from './json-value.js';

const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const ANNOTATIONS = new Set([
  'title',
  'description',
  '$comment',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
]);
const SUPPORTED = new Set([
  ...ANNOTATIONS,
  'type',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'enum',
  'const',
]);

let sharedAjv: Ajv2020 | undefined;

// Strict: unknown keywords, union types without intent, `required` naming undeclared properties and
// `properties` without `type: object` are schema errors. No coercion, no defaults, nothing removed:
// the event is judged as sent.
function ajv(): Ajv2020 {
  sharedAjv ??= new Ajv2020({
    allErrors: true,
    strict: true,
    allowUnionTypes: true,
    coerceTypes: false,
    useDefaults: false,
    removeAdditional: false,
    validateFormats: false,
  });
  return sharedAjv;
}

function normalizeSchema(node: unknown, path: string): Record<string, unknown> | boolean {
  if (typeof node === 'boolean') return node;
  if (!isPlainObject(node)) {
    throw new ContractError(path, 'invalid_schema', `${path} must be a schema: an object or a boolean.`);
  }
  return normalizeObjectSchema(node, path, false);
}

/** A copy of the schema with only supported keywords and every object closed unless it says otherwise. */
export function normalizeObjectSchema(
  node: Record<string, unknown>,
  path: string,
  root: boolean,
): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(node)) {
    const at = `${path}.${keyword}`;
    if (keyword === '$schema' && root) {
      if (value !== SCHEMA_DIALECT) {
        throw new ContractError(
          at,
          'unsupported_keyword',
          `Only JSON Schema 2020-12 (${SCHEMA_DIALECT}) is supported.`,
        );
      }
    } else if (!SUPPORTED.has(keyword)) {
      throw new ContractError(
        at,
        'unsupported_keyword',
        `"${keyword}" is not supported in contract schemas; use type, properties, required, items, bounds, enum and const.`,
      );
    }
    if (keyword === 'properties' && isPlainObject(value)) {
      const properties: Record<string, unknown> = {};
      for (const [attribute, schema] of Object.entries(value)) {
        if (!isAttributeName(attribute)) {
          throw new ContractError(
            `${at}.${attribute}`,
            'invalid_attribute_name',
            `Attribute name "${attribute}" must be non-empty and hold no ".", "[" or "]": dotted paths name nested attributes.`,
          );
        }
        properties[attribute] = normalizeSchema(schema, `${at}.${attribute}`);
      }
      copy[keyword] = properties;
    } else if ((keyword === 'items' || keyword === 'additionalProperties') && typeof value !== 'boolean') {
      copy[keyword] = normalizeSchema(value, at);
    } else if (keyword === 'type' && !isTypeKeyword(value)) {
      throw new ContractError(
        at,
        'invalid_schema',
        `type must be one of ${[...JSON_TYPES].join(', ')} or a non-empty list of them.`,
      );
    } else if (keyword === 'pattern') {
      if (typeof value !== 'string' || compilePattern(value) === undefined) {
        throw new ContractError(at, 'invalid_pattern', `${at} is not a valid regular expression.`);
      }
      copy[keyword] = value;
    } else {
      copy[keyword] = value;
    }
  }
  const describesObject = typesOf(copy).includes('object') || 'properties' in copy;
  if (describesObject && !('additionalProperties' in copy)) copy.additionalProperties = false;
  return copy;
}

export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const validator = ajv();
  if (!validator.validateSchema(schema)) {
    const [first] = validator.errors ?? [];
    throw new ContractError(
      pointerToPath('schema', first?.instancePath ?? '', undefined),
      'invalid_schema',
      `The schema is invalid: ${validator.errorsText(validator.errors, { dataVar: 'schema' })}.`,
    );
  }
  try {
    return validator.compile(schema);
  } catch (error) {
    throw new ContractError('schema', 'invalid_schema', `The schema is invalid: ${(error as Error).message}`);
  } finally {
    // Compiled functions outlive the cache entry; without this every compile would stay in memory.
    validator.removeSchema(schema);
  }
}

export interface ResolvedAttribute {
  readonly schema: Record<string, unknown> | boolean;
  /** Required on every level of the path. */
  readonly required: boolean;
}

export function resolveAttribute(
  schema: Record<string, unknown>,
  attribute: unknown,
  at: string,
): ResolvedAttribute {
  const segments = typeof attribute === 'string' ? attribute.split('.') : [];
  let node: Record<string, unknown> | boolean = schema;
  let required = true;
  for (const segment of segments) {
    const properties: unknown = typeof node === 'boolean' ? undefined : node.properties;
    const next: unknown =
      isPlainObject(properties) && Object.hasOwn(properties, segment) ? properties[segment] : undefined;
    if (segment === '' || typeof node === 'boolean' || (typeof next !== 'boolean' && !isPlainObject(next))) {
      throw new ContractError(
        at,
        'attribute_not_declared',
        `"${String(attribute)}" is not declared in the schema's properties.`,
      );
    }
    const requiredHere = Array.isArray(node.required) && node.required.includes(segment);
    required &&= requiredHere;
    node = next;
  }
  if (segments.length === 0) {
    throw new ContractError(at, 'attribute_not_declared', `${at} must name an attribute.`);
  }
  return { schema: node, required };
}

function isTypeKeyword(value: unknown): boolean {
  if (typeof value === 'string') return JSON_TYPES.has(value);
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((type) => typeof type === 'string' && JSON_TYPES.has(type))
  );
}

export function typesOf(schema: Record<string, unknown>): string[] {
  const { type } = schema;
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter((entry): entry is string => typeof entry === 'string') : [];
}

// Unicode mode, as Ajv compiles schema patterns, so rules and schemas read regexes alike.
export function compilePattern(source: string): RegExp | undefined {
  try {
    return new RegExp(source, 'u');
  } catch {
    return undefined;
  }
}
