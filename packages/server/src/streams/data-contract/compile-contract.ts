/**
 * Compiling a data contract for privacy streams: checking it once, up front, so that events can
 * then be validated against it (`validateEvent`) with every reason an event fails rather than the
 * first. What the event schema may say is in `contract-schema.ts`.
 */
import { isName, type DataContractInput } from '@lethe/api';
import type { Taxonomy } from '../../lib/taxonomy.js';
import { coversAttribute } from './attribute-path.js';
import { CompiledContract } from './compiled-contract.js';
import { ContractError } from './contract-error.js';
import { compileRule } from './contract-rule.js';
import { compileSchema, normalizeObjectSchema, resolveAttribute, typesOf } from './contract-schema.js';
import { isPlainObject } from './json-value.js';

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
  if (!isName(name)) {
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
