/**
 * Data contracts for privacy streams: compiling a contract (checking it once, up front) and
 * validating events against it, with every reason an event fails rather than the first.
 *
 * The event schema is a subset of JSON Schema 2020-12, small enough that every failure maps onto
 * one of the stable rejection codes: `type`, `properties`, `required`, `additionalProperties`,
 * `items`, the string, number, array and object bounds, `enum`, `const` and the annotations.
 * Combinators (`anyOf`, `oneOf`, `allOf`, `not`, `if`), references and `format` are refused: their
 * failures do not say which attribute is wrong. An object schema that does not say
 * `additionalProperties` is closed, so extra attributes are rejected, as the contract promises.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { ContractRule, DataContractInput, StreamEventRejection, StreamRejectionCode } from '@lethe/api';
import { AppError } from '../lib/app-error.js';
import { coversKey, type Taxonomy } from '../lib/taxonomy.js';
import { parseInstant } from '../lib/time.js';

export type ContractErrorReason =
  | 'invalid_name'
  | 'invalid_version'
  | 'schema_not_object'
  | 'unsupported_keyword'
  | 'invalid_schema'
  | 'invalid_attribute_name'
  | 'invalid_pattern'
  | 'attribute_not_declared'
  | 'attribute_not_string'
  | 'attribute_not_required'
  | 'key_link_personal'
  | 'duplicate_personal'
  | 'no_purposes'
  | 'unknown_purpose'
  | 'invalid_rule';

/**
 * A contract the server refuses. `path` leads into the contract input (`keyLink`,
 * `personal[1].purposes[0]`, `schema.properties.address.pattern`); both are also in `details`.
 */
export class ContractError extends AppError {
  constructor(
    readonly path: string,
    readonly reason: ContractErrorReason,
    message: string,
  ) {
    super('CONTRACT_INVALID', message, { path, reason });
    this.name = 'ContractError';
  }
}

export interface ContractRef {
  readonly name: string;
  readonly version: number;
}

const CONTRACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CONTRACT_REF = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})@([1-9][0-9]{0,15})$/;

/** `clickstream@3` -> `{name: 'clickstream', version: 3}`; undefined when it is not such a reference. */
export function parseContractRef(text: string): ContractRef | undefined {
  const match = CONTRACT_REF.exec(text);
  if (!match) return undefined;
  const version = Number(match[2]);
  return Number.isSafeInteger(version) ? { name: match[1] ?? '', version } : undefined;
}

export function formatContractRef(ref: ContractRef): string {
  return `${ref.name}@${ref.version}`;
}

/** The contract an envelope names, for looking it up before `validateEvent`; undefined if it names none. */
export function contractRefOf(event: unknown): ContractRef | undefined {
  if (!isPlainObject(event) || typeof event.contract !== 'string') return undefined;
  return parseContractRef(event.contract);
}

interface CompiledRule {
  readonly attribute: string;
  readonly pattern?: { readonly source: string; readonly regex: RegExp };
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly unknown[];
}

/** A contract checked and ready to validate events; made by `compileContract`. */
export class CompiledContract implements ContractRef {
  readonly #validateData: ValidateFunction;
  readonly #rules: readonly CompiledRule[];

  /** @internal use `compileContract` */
  constructor(
    readonly name: string,
    readonly version: number,
    /** The event schema as enforced: closed objects made explicit. */
    readonly schema: Readonly<Record<string, unknown>>,
    readonly keyLink: string,
    readonly subject: string,
    /** Personal attribute -> the purposes it may be used for, as the contract lists them. */
    readonly personal: ReadonlyMap<string, readonly string[]>,
    /** The purpose taxonomy consent and purposes were checked against. */
    readonly purposes: Taxonomy,
    validateData: ValidateFunction,
    rules: readonly CompiledRule[],
  ) {
    this.#validateData = validateData;
    this.#rules = rules;
  }

  get ref(): string {
    return formatContractRef(this);
  }

  /** @internal the data rejections of `validateEvent` */
  dataRejections(data: unknown): StreamEventRejection[] {
    const reasons: StreamEventRejection[] = [];
    const wrongTypes = new Set<string>();
    if (!this.#validateData(data)) {
      for (const error of this.#validateData.errors ?? []) {
        const reason = rejectionOfAjvError(error, data);
        if (reason.code === 'WRONG_TYPE') wrongTypes.add(reason.path);
        reasons.push(reason);
      }
    }
    for (const rule of this.#rules) reasons.push(...ruleRejections(rule, data, wrongTypes));
    return reasons;
  }
}

/** An event that conforms to its contract, with what the stream needs from it picked out. */
export interface ValidEvent {
  readonly id: string;
  readonly contract: ContractRef;
  readonly at: string | undefined;
  /** The key link's value: events with the same value share one encryption key. */
  readonly keyLinkValue: string;
  /** The data subject's id; a delete request for it finds every key it is tied to. */
  readonly subjectValue: string;
  readonly consent: ReadonlySet<string>;
  /** The personal attributes present in this event -> the purposes the contract allows for them. */
  readonly personal: ReadonlyMap<string, readonly string[]>;
  readonly data: Readonly<Record<string, unknown>>;
}

export type EventValidation =
  | { readonly ok: true; readonly event: ValidEvent }
  | { readonly ok: false; readonly reasons: StreamEventRejection[] };

// ---------------------------------------------------------------------------------------------
// Compiling a contract

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

/**
 * Checks a contract and prepares it for `validateEvent`; throws a `ContractError` naming the first
 * problem and where it is.
 *
 * @example
 * const contract = compileContract('clickstream', {
 *   version: 1,
 *   schema: { type: 'object', required: ['sessionId', 'customerId'],
 *             properties: { sessionId: { type: 'string' }, customerId: { type: 'string' } } },
 *   keyLink: 'sessionId',
 *   subject: 'customerId',
 *   personal: [{ attribute: 'customerId', purposes: ['essential.orders'] }],
 * }, Taxonomy.purposes());
 * validateEvent(contract, { id: 'e1', contract: 'clickstream@1', consent: [], data: { sessionId: 's' } });
 * // { ok: false, reasons: [{ code: 'MISSING_ATTRIBUTE', path: 'data.customerId', ... }] }
 */
export function compileContract(
  name: string,
  input: DataContractInput,
  purposes: Taxonomy,
): CompiledContract {
  if (!CONTRACT_NAME.test(name)) {
    throw new ContractError(
      'name',
      'invalid_name',
      `"${name}" is not a contract name (letters, digits, . _ -).`,
    );
  }
  if (!Number.isSafeInteger(input.version) || input.version < 1) {
    throw new ContractError('version', 'invalid_version', 'The version must be a positive integer.');
  }
  const rawSchema: unknown = input.schema;
  if (!isPlainObject(rawSchema) || rawSchema.type !== 'object') {
    throw new ContractError(
      'schema',
      'schema_not_object',
      'The schema must be an object schema: {"type": "object", "properties": {...}}.',
    );
  }
  const schema = normalizeObjectSchema(rawSchema, 'schema', true);
  const validateData = compileSchema(schema);

  const keyLink = requireIdentifyingAttribute(schema, input.keyLink, 'keyLink', 'key link');
  const subject = requireIdentifyingAttribute(schema, input.subject, 'subject', 'subject');
  const personal = compilePersonal(schema, input, purposes);
  for (const attribute of personal.keys()) {
    if (coversAttribute(attribute, keyLink)) {
      throw new ContractError(
        'keyLink',
        'key_link_personal',
        `The key link "${keyLink}" must stay readable to find its key, so it cannot lie in personal attribute "${attribute}".`,
      );
    }
  }
  const rules = (input.rules ?? []).map((rule, index) => compileRule(schema, rule, `rules[${index}]`));
  return new CompiledContract(
    name,
    input.version,
    schema,
    keyLink,
    subject,
    personal,
    purposes,
    validateData,
    rules,
  );
}

function normalizeSchema(node: unknown, path: string): Record<string, unknown> | boolean {
  if (typeof node === 'boolean') return node;
  if (!isPlainObject(node)) {
    throw new ContractError(path, 'invalid_schema', `${path} must be a schema: an object or a boolean.`);
  }
  return normalizeObjectSchema(node, path, false);
}

/** A copy of the schema with only supported keywords and every object closed unless it says otherwise. */
function normalizeObjectSchema(
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

function compileSchema(schema: Record<string, unknown>): ValidateFunction {
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

interface ResolvedAttribute {
  readonly schema: Record<string, unknown> | boolean;
  /** Required on every level of the path. */
  readonly required: boolean;
}

function resolveAttribute(
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

function requireIdentifyingAttribute(
  schema: Record<string, unknown>,
  attribute: string,
  at: string,
  role: string,
): string {
  const resolved = resolveAttribute(schema, attribute, at);
  const types = typeof resolved.schema === 'boolean' ? [] : typesOf(resolved.schema);
  if (types.length !== 1 || types[0] !== 'string') {
    throw new ContractError(
      at,
      'attribute_not_string',
      `The ${role} "${attribute}" must be declared as type string.`,
    );
  }
  if (!resolved.required) {
    throw new ContractError(
      at,
      'attribute_not_required',
      `The ${role} "${attribute}" must be required (on every level of its path), so every event has one.`,
    );
  }
  return attribute;
}

function compilePersonal(
  schema: Record<string, unknown>,
  input: DataContractInput,
  purposes: Taxonomy,
): Map<string, readonly string[]> {
  const personal = new Map<string, readonly string[]>();
  input.personal.forEach((entry, index) => {
    const at = `personal[${index}]`;
    resolveAttribute(schema, entry.attribute, `${at}.attribute`);
    for (const earlier of personal.keys()) {
      if (coversAttribute(earlier, entry.attribute) || coversAttribute(entry.attribute, earlier)) {
        throw new ContractError(
          `${at}.attribute`,
          'duplicate_personal',
          earlier === entry.attribute
            ? `Personal attribute "${entry.attribute}" is listed twice.`
            : `Personal attributes "${earlier}" and "${entry.attribute}" overlap; list the one or the other.`,
        );
      }
    }
    if (entry.purposes.length === 0) {
      throw new ContractError(
        `${at}.purposes`,
        'no_purposes',
        `Personal attribute "${entry.attribute}" needs a purpose.`,
      );
    }
    entry.purposes.forEach((purpose, purposeIndex) => {
      if (!purposes.has(purpose)) {
        throw new ContractError(
          `${at}.purposes[${purposeIndex}]`,
          'unknown_purpose',
          `"${purpose}" is not a purpose key in the purpose taxonomy.`,
        );
      }
    });
    personal.set(entry.attribute, [...new Set(entry.purposes)]);
  });
  return personal;
}

const STRING_RULES = ['pattern', 'minLength', 'maxLength'] as const;
const NUMBER_RULES = ['minimum', 'maximum'] as const;

function compileRule(schema: Record<string, unknown>, rule: ContractRule, at: string): CompiledRule {
  const resolved = resolveAttribute(schema, rule.attribute, `${at}.attribute`);
  const constraints = [...STRING_RULES, ...NUMBER_RULES, 'enum'] as const;
  if (!constraints.some((name) => rule[name] !== undefined)) {
    throw new ContractError(at, 'invalid_rule', `The rule for "${rule.attribute}" sets no constraint.`);
  }
  const declared = typeof resolved.schema === 'boolean' ? [] : typesOf(resolved.schema);
  const mismatch = (names: readonly string[], types: readonly string[]): string | undefined =>
    declared.length > 0 && !declared.some((type) => types.includes(type))
      ? names.find((name) => rule[name as keyof typeof rule] !== undefined)
      : undefined;
  const misplaced = mismatch(STRING_RULES, ['string']) ?? mismatch(NUMBER_RULES, ['number', 'integer']);
  if (misplaced !== undefined) {
    throw new ContractError(
      `${at}.${misplaced}`,
      'invalid_rule',
      `${misplaced} does not apply to "${rule.attribute}", declared as ${declared.join(' or ')}.`,
    );
  }
  for (const name of ['minLength', 'maxLength'] as const) {
    const value = rule[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new ContractError(`${at}.${name}`, 'invalid_rule', `${name} must be a non-negative integer.`);
    }
  }
  for (const name of NUMBER_RULES) {
    const value = rule[name];
    if (value !== undefined && !Number.isFinite(value)) {
      throw new ContractError(`${at}.${name}`, 'invalid_rule', `${name} must be a finite number.`);
    }
  }
  if (rule.minLength !== undefined && rule.maxLength !== undefined && rule.minLength > rule.maxLength) {
    throw new ContractError(at, 'invalid_rule', 'minLength is greater than maxLength: no value could pass.');
  }
  if (rule.minimum !== undefined && rule.maximum !== undefined && rule.minimum > rule.maximum) {
    throw new ContractError(at, 'invalid_rule', 'minimum is greater than maximum: no value could pass.');
  }
  if (rule.enum !== undefined && rule.enum.length === 0) {
    throw new ContractError(`${at}.enum`, 'invalid_rule', 'enum must list at least one value.');
  }
  let pattern: CompiledRule['pattern'];
  if (rule.pattern !== undefined) {
    const regex = compilePattern(rule.pattern);
    if (!regex) {
      throw new ContractError(
        `${at}.pattern`,
        'invalid_pattern',
        `"${rule.pattern}" is not a valid regular expression.`,
      );
    }
    pattern = { source: rule.pattern, regex };
  }
  return {
    attribute: rule.attribute,
    ...(pattern && { pattern }),
    ...(rule.minLength !== undefined && { minLength: rule.minLength }),
    ...(rule.maxLength !== undefined && { maxLength: rule.maxLength }),
    ...(rule.minimum !== undefined && { minimum: rule.minimum }),
    ...(rule.maximum !== undefined && { maximum: rule.maximum }),
    ...(rule.enum !== undefined && { enum: rule.enum }),
  };
}

// Unicode mode, as Ajv compiles schema patterns, so rules and schemas read regexes alike.
function compilePattern(source: string): RegExp | undefined {
  try {
    return new RegExp(source, 'u');
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Validating events

const ENVELOPE_ATTRIBUTES = new Set(['id', 'contract', 'consent', 'at', 'data']);

/**
 * Checks an event envelope and its data against a compiled contract. Never throws: anything that
 * is not a conforming event comes back with every reason, each with a stable code and a path.
 */
export function validateEvent(contract: CompiledContract, event: unknown): EventValidation {
  if (!isPlainObject(event)) {
    return {
      ok: false,
      reasons: [reject('INVALID_ENVELOPE', '', 'The event must be an object {id, contract, consent, data}.')],
    };
  }
  const reasons: StreamEventRejection[] = [];
  for (const attribute of Object.keys(event)) {
    if (!ENVELOPE_ATTRIBUTES.has(attribute)) {
      reasons.push(
        reject(
          'INVALID_ENVELOPE',
          childPath('', attribute),
          `"${attribute}" is not an envelope attribute; put event attributes in data.`,
        ),
      );
    }
  }
  const { id, consent, at, data } = event;
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
    reasons.push(reject('INVALID_ENVELOPE', 'id', 'The event id must be a string of 1 to 256 characters.'));
  }
  reasons.push(...contractRejections(contract, event.contract));
  reasons.push(...consentRejections(contract.purposes, consent));
  if (at !== undefined && (typeof at !== 'string' || parseInstant(at) === undefined)) {
    reasons.push(
      reject(
        'INVALID_ENVELOPE',
        'at',
        'at must be an ISO 8601 instant with a zone, e.g. 2024-03-01T10:00:00Z.',
      ),
    );
  }
  if (!Object.hasOwn(event, 'data')) {
    reasons.push(reject('INVALID_ENVELOPE', 'data', 'The event has no data.'));
  } else {
    reasons.push(...contract.dataRejections(data));
  }
  if (reasons.length > 0 || !isPlainObject(data) || typeof id !== 'string' || !Array.isArray(consent)) {
    return { ok: false, reasons };
  }
  const personal = new Map<string, readonly string[]>();
  for (const [attribute, purposes] of contract.personal) {
    if (valueAt(data, attribute) !== undefined) personal.set(attribute, purposes);
  }
  return {
    ok: true,
    event: {
      id,
      contract: { name: contract.name, version: contract.version },
      at: typeof at === 'string' ? at : undefined,
      keyLinkValue: String(valueAt(data, contract.keyLink)),
      subjectValue: String(valueAt(data, contract.subject)),
      consent: new Set(consent as string[]),
      personal,
      data,
    },
  };
}

function contractRejections(contract: CompiledContract, named: unknown): StreamEventRejection[] {
  const ref = typeof named === 'string' ? parseContractRef(named) : undefined;
  if (!ref) {
    return [
      reject(
        'INVALID_ENVELOPE',
        'contract',
        'contract must name the contract as name@version, e.g. clickstream@3.',
      ),
    ];
  }
  if (ref.name !== contract.name) {
    return [
      reject(
        'UNKNOWN_CONTRACT',
        'contract',
        `The event names contract "${ref.name}", not "${contract.name}".`,
      ),
    ];
  }
  if (ref.version !== contract.version) {
    return [
      reject(
        'CONTRACT_VERSION_MISMATCH',
        'contract',
        `The event names ${formatContractRef(ref)}, but it is being checked against ${contract.ref}.`,
      ),
    ];
  }
  return [];
}

function consentRejections(purposes: Taxonomy, consent: unknown): StreamEventRejection[] {
  if (!Array.isArray(consent)) {
    return [reject('CONSENT_INVALID', 'consent', 'consent must be a list of purpose keys (empty for none).')];
  }
  const reasons: StreamEventRejection[] = [];
  consent.forEach((purpose: unknown, index) => {
    if (typeof purpose !== 'string' || !purposes.has(purpose)) {
      reasons.push(
        reject(
          'CONSENT_INVALID',
          `consent[${index}]`,
          typeof purpose === 'string'
            ? `"${purpose}" is not a purpose key in the purpose taxonomy.`
            : `A consent entry must be a purpose key, not ${jsonType(purpose)}.`,
        ),
      );
    }
  });
  return reasons;
}

function rejectionOfAjvError(error: ErrorObject, data: unknown): StreamEventRejection {
  const path = pointerToPath('data', error.instancePath, data);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const missing = childPath(path, String(params.missingProperty));
      return reject('MISSING_ATTRIBUTE', missing, `${missing} is mandatory but missing.`);
    }
    case 'additionalProperties': {
      const extra = childPath(path, String(params.additionalProperty));
      return reject('EXTRA_ATTRIBUTE', extra, `${extra} is not an attribute of this contract.`);
    }
    case 'type': {
      const expected = (
        Array.isArray(params.type) ? params.type.map(String) : String(params.type).split(',')
      ).join(' or ');
      const got = jsonType(valueAtPointer(data, error.instancePath));
      return { ...reject('WRONG_TYPE', path, `${path} must be ${expected}, not ${got}.`), expected, got };
    }
    default:
      return {
        ...reject('RULE_VIOLATION', path, `${path} ${error.message ?? `fails ${error.keyword}`}.`),
        rule: error.keyword,
      };
  }
}

function ruleRejections(
  rule: CompiledRule,
  data: unknown,
  wrongTypes: ReadonlySet<string>,
): StreamEventRejection[] {
  const value = valueAt(data, rule.attribute);
  const path = `data.${rule.attribute}`;
  if (value === undefined || wrongTypes.has(path)) return [];
  const reasons: StreamEventRejection[] = [];
  const violated = (name: string, message: string): void => {
    reasons.push({ ...reject('RULE_VIOLATION', path, `${path} ${message}.`), rule: name });
  };
  if (rule.pattern || rule.minLength !== undefined || rule.maxLength !== undefined) {
    if (typeof value !== 'string') {
      violated(
        rule.pattern ? 'pattern' : rule.minLength !== undefined ? 'minLength' : 'maxLength',
        `must be a string, not ${jsonType(value)}`,
      );
    } else {
      const length = [...value].length;
      if (rule.pattern && !rule.pattern.regex.test(value))
        violated('pattern', `must match pattern "${rule.pattern.source}"`);
      if (rule.minLength !== undefined && length < rule.minLength)
        violated('minLength', `must have at least ${rule.minLength} characters`);
      if (rule.maxLength !== undefined && length > rule.maxLength)
        violated('maxLength', `must have at most ${rule.maxLength} characters`);
    }
  }
  if (rule.minimum !== undefined || rule.maximum !== undefined) {
    if (typeof value !== 'number') {
      violated(
        rule.minimum !== undefined ? 'minimum' : 'maximum',
        `must be a number, not ${jsonType(value)}`,
      );
    } else {
      if (rule.minimum !== undefined && value < rule.minimum)
        violated('minimum', `must be >= ${rule.minimum}`);
      if (rule.maximum !== undefined && value > rule.maximum)
        violated('maximum', `must be <= ${rule.maximum}`);
    }
  }
  if (rule.enum && !rule.enum.some((allowed) => jsonEqual(allowed, value))) {
    violated('enum', `must be one of ${rule.enum.map((allowed) => JSON.stringify(allowed)).join(', ')}`);
  }
  return reasons;
}

/**
 * Whether consent covers every listed purpose. A consented purpose covers itself and every purpose
 * below it in the taxonomy (`marketing` covers `marketing.email`), not the other way round: consent
 * to newsletters is no consent to marketing in general. No purposes at all are always covered.
 */
export function purposesCovered(
  consent: Iterable<string>,
  purposes: Iterable<string>,
  purposeTaxonomy: Taxonomy,
): boolean {
  const given = [...consent];
  for (const purpose of purposes) {
    if (!given.some((consented) => purposeTaxonomy.covers(consented, purpose))) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function reject(code: StreamRejectionCode, path: string, message: string): StreamEventRejection {
  return { code, path, message };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAttributeName(name: string): boolean {
  return name.length > 0 && !/[.[\]]/.test(name);
}

function isTypeKeyword(value: unknown): boolean {
  if (typeof value === 'string') return JSON_TYPES.has(value);
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((type) => typeof type === 'string' && JSON_TYPES.has(type))
  );
}

function typesOf(schema: Record<string, unknown>): string[] {
  const { type } = schema;
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter((entry): entry is string => typeof entry === 'string') : [];
}

/** `true` when `attribute` is `outer` or lies inside it: `address` covers `address.city`. */
function coversAttribute(outer: string, attribute: string): boolean {
  return coversKey(outer, attribute);
}

/** The value at a dotted attribute path, through plain objects only; undefined when absent. */
function valueAt(data: unknown, attribute: string): unknown {
  let node: unknown = data;
  for (const segment of attribute.split('.')) {
    if (!isPlainObject(node) || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}

function pointerSegments(pointer: string): string[] {
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function valueAtPointer(data: unknown, pointer: string): unknown {
  let node: unknown = data;
  for (const segment of pointerSegments(pointer)) {
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isPlainObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}

/** A JSON pointer below `base` as a path: `/items/2/sku` -> `data.items[2].sku`, indexes where the data has arrays. */
function pointerToPath(base: string, pointer: string, data: unknown): string {
  let path = base;
  let node: unknown = data;
  for (const segment of pointerSegments(pointer)) {
    if (Array.isArray(node) || (data === undefined && /^(0|[1-9][0-9]*)$/.test(segment))) {
      path += `[${segment}]`;
      node = Array.isArray(node) ? node[Number(segment)] : undefined;
    } else {
      path = childPath(path, segment);
      node = isPlainObject(node) && Object.hasOwn(node, segment) ? node[segment] : undefined;
    }
  }
  return path;
}

/** `parent.name`, or `parent["odd.name"]` when the name would not read back as one segment. */
function childPath(parent: string, name: string): string {
  if (!isAttributeName(name) || /\s|"/.test(name)) return `${parent}[${JSON.stringify(name)}]`;
  return parent === '' ? name : `${parent}.${name}`;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, index) => jsonEqual(item, b[index]))
    );
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]))
  );
}
