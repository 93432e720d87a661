import type { StreamEventRejection } from '@lethe/api';
import type { Taxonomy } from '../../lib/taxonomy.js';
import { idProblem } from '../../lib/id-rule.js';
import { MAX_DEPTH, nestsTooDeep } from '../../lib/text-rule.js';
import { parseInstant } from '../../lib/time.js';
import { childPath, valueAt } from './attribute-path.js';
import type { CompiledContract } from './compiled-contract.js';
import { formatContractRef, parseContractRef, type ContractRef } from './contract-ref.js';
import { reject } from './event-rejection.js';
import { isPlainObject, jsonType } from './json-value.js';

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

const ENVELOPE_ATTRIBUTES = new Set(['id', 'contract', 'consent', 'at', 'data']);
/** Event ids, key-link values and subjects: as long as a subject id may be anywhere in Lethe. */
const MAX_ID_LENGTH = 256;

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
  const idBroken = idProblem(id, MAX_ID_LENGTH);
  if (idBroken !== undefined) {
    reasons.push(reject('INVALID_ENVELOPE', 'id', `The event id ${idBroken}.`));
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
  } else if (nestsTooDeep(data)) {
    // Before the contract's checks: nesting this deep overflowed the stack on its way to a store.
    reasons.push(reject('INVALID_ENVELOPE', 'data', `data nests deeper than ${MAX_DEPTH} levels.`));
  } else {
    reasons.push(...contract.dataRejections(data));
    reasons.push(...idRejections(contract, data));
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

/**
 * The key link and the subject are stored as ids (a key is found, and shredded, by them), so they
 * follow the id rule; a value the schema already refused (not a string) is not reported twice.
 */
function idRejections(contract: CompiledContract, data: unknown): StreamEventRejection[] {
  const reasons: StreamEventRejection[] = [];
  for (const [attribute, role] of [
    [contract.keyLink, 'key link'],
    [contract.subject, 'subject'],
  ] as const) {
    const value = valueAt(data, attribute);
    const problem = typeof value === 'string' ? idProblem(value, MAX_ID_LENGTH) : undefined;
    if (problem === undefined || reasons.some((reason) => reason.path === `data.${attribute}`)) continue;
    reasons.push({
      ...reject('RULE_VIOLATION', `data.${attribute}`, `data.${attribute} (the ${role}) ${problem}.`),
      rule: 'id',
    });
  }
  return reasons;
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
