import type { StreamEventRejection, StreamIngestRejection, StreamIngestResult } from '@lethe/api';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { contractRefOf, formatContractRef, parseContractRef } from './data-contract/contract-ref.js';
import { purposesCovered } from './data-contract/purposes-covered.js';
import { validateEvent, type ValidEvent } from './data-contract/validate-event.js';
import {
  deriveEvent,
  encryptEvent,
  keyIdsOf,
  type FieldKey,
  type PersonalAttributes,
} from './field-crypto.js';
import { MalformedLine } from '../lib/ndjson.js';
import type { Taxonomy } from '../lib/taxonomy.js';
import { parseInstant, toIso } from '../lib/time.js';
import type { NewStreamEvent } from './stream-queries.js';
import type { StreamEventRow } from './stream-tables.js';
import type { Store } from '../store/store.js';
import type { StreamIngest, StreamPage, StreamReader, StreamView, ViewedStreamEvent } from './stream-log.js';
import { audit, auditRead } from '../audit/audit-trail.js';
import type { ContractLookup, ContractService } from './contract-service.js';
import type { FieldKeyService } from './field-key-service.js';

export interface StreamLimits {
  /** Events per ingest batch; more is a 413 BATCH_TOO_LARGE. */
  readonly maxBatchEvents: number;
  /** How far in the future an event's `at` may lie (clock skew), in ms. */
  readonly maxClockSkewMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { maxBatchEvents: 5_000, maxClockSkewMs: 5 * 60_000 };

/** An event that passed validation, with what its append needs. */
interface Admitted {
  readonly index: number;
  readonly event: ValidEvent;
  readonly ref: string;
  readonly at: number;
  readonly personal: PersonalAttributes;
  /** The contract's key-link attribute: where a KEY_SHREDDED refusal points. */
  readonly keyLink: string;
}

/**
 * Privacy streams over the store: ingest validates each event against its contract, encrypts its
 * personal values with the key of its key-link value and period, and appends the good ones to
 * the base stream in one durable, audited transaction; readers see the base stream as stored or
 * a derived stream for a set of purposes.
 *
 * Keys are fetched (and made) before the append transaction: on SQLite the store has one
 * connection, and a key read inside the transaction would wait for the transaction itself.
 */
export class StreamService implements StreamIngest, StreamReader {
  readonly #now: () => number;
  #lastCommitted = 0;
  readonly #waiters = new Set<{ readonly afterSeq: number; readonly wake: () => void }>();

  constructor(
    private readonly store: Store,
    private readonly contracts: ContractService,
    private readonly keys: FieldKeyService,
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
    options: { now?: () => number } = {},
  ) {
    this.#now = options.now ?? Date.now;
  }

  async ingest(principal: Principal, envelopes: readonly unknown[]): Promise<StreamIngestResult> {
    authorize(principal, 'streams:publish');
    if (envelopes.length > this.limits.maxBatchEvents) {
      throw new AppError(
        'BATCH_TOO_LARGE',
        `A batch may hold at most ${this.limits.maxBatchEvents} events; this one holds ${envelopes.length}.`,
      );
    }
    const receivedAt = this.#now();
    const purposes = await this.contracts.purposes();
    const refs = envelopes.map(contractRefOf).filter((ref) => ref !== undefined);
    const contracts = await this.contracts.compiled(refs, purposes);

    const rejected: StreamIngestRejection[] = [];
    const admitted: Admitted[] = [];
    envelopes.forEach((envelope, index) => {
      const outcome = this.#admit(envelope, index, contracts, receivedAt);
      if ('reasons' in outcome) rejected.push(outcome);
      else admitted.push(outcome);
    });

    // Ids already stored are duplicates before any key is asked for: a redelivered event of a
    // period shredded since is a duplicate, not a KEY_SHREDDED refusal.
    const stored = await this.store.repository.streams.existingIds(admitted.map((a) => a.event.id));
    const fresh = admitted.filter((a) => !stored.has(a.event.id));
    const keysByEvent = await this.#keysFor(fresh, rejected);
    const rows: NewStreamEvent[] = [];
    for (const admittedEvent of fresh) {
      if (!keysByEvent.has(admittedEvent.index)) continue; // refused: its period's key is shredded
      rows.push(this.#encrypt(admittedEvent, keysByEvent.get(admittedEvent.index), receivedAt));
    }

    const storedBefore = admitted.length - fresh.length;
    let appendedDuplicates = 0;
    if (rows.length > 0) {
      const appended = await this.store.transaction(async (repository) => {
        const result = await repository.streams.append(rows);
        const count = rows.length - result.duplicates.length;
        const used = [...new Set(rows.map((row) => row.contract))].sort().join(',');
        await audit(repository, principal, 'streams.publish', `events:${count} contracts:${used}`);
        return result;
      });
      appendedDuplicates = appended.duplicates.length;
      this.#committed(appended.lastSeq);
    }
    rejected.sort((a, b) => a.index - b.index);
    return {
      accepted: rows.length - appendedDuplicates,
      duplicates: storedBefore + appendedDuplicates,
      rejected,
    };
  }

  #admit(
    envelope: unknown,
    index: number,
    contracts: ReadonlyMap<string, ContractLookup>,
    receivedAt: number,
  ): Admitted | StreamIngestRejection {
    const idOf = (value: unknown) => {
      const id = (value as { id?: unknown } | null)?.id;
      return typeof id === 'string' ? { id } : {};
    };
    const refuse = (reasons: StreamEventRejection[]): StreamIngestRejection => ({
      index,
      ...idOf(envelope),
      reasons,
    });
    if (envelope instanceof MalformedLine) {
      return refuse([
        { code: 'INVALID_ENVELOPE', path: '', message: `The line is not JSON: ${envelope.message}` },
      ]);
    }
    const ref = contractRefOf(envelope);
    const lookup = ref && contracts.get(formatContractRef(ref));
    if (!ref || !lookup) {
      const isObject = typeof envelope === 'object' && envelope !== null && !Array.isArray(envelope);
      return refuse([
        isObject
          ? {
              code: 'INVALID_ENVELOPE',
              path: 'contract',
              message: 'contract must name the contract as name@version, e.g. clickstream@3.',
            }
          : {
              code: 'INVALID_ENVELOPE',
              path: '',
              message: 'The event must be an object {id, contract, consent, data}.',
            },
      ]);
    }
    const named = formatContractRef(ref);
    switch (lookup.kind) {
      case 'unknown-name':
        return refuse([
          { code: 'UNKNOWN_CONTRACT', path: 'contract', message: `No contract is named "${ref.name}".` },
        ]);
      case 'unknown-version':
        return refuse([
          {
            code: 'CONTRACT_VERSION_MISMATCH',
            path: 'contract',
            message: `Contract "${ref.name}" has no version ${ref.version}; it has ${lookup.versions.join(', ')}.`,
          },
        ]);
      case 'invalid':
        return refuse([
          {
            code: 'UNKNOWN_CONTRACT',
            path: 'contract',
            message: `${named} no longer holds under the current purpose taxonomy: ${lookup.error.message}`,
          },
        ]);
      case 'compiled':
        break;
    }
    const validation = validateEvent(lookup.contract, envelope);
    if (!validation.ok) return refuse(validation.reasons);
    const at =
      validation.event.at === undefined ? receivedAt : (parseInstant(validation.event.at) ?? receivedAt);
    if (at > receivedAt + this.limits.maxClockSkewMs) {
      return refuse([
        { code: 'INVALID_ENVELOPE', path: 'at', message: `at (${validation.event.at}) lies in the future.` },
      ]);
    }
    const { personal, keyLink } = lookup.contract;
    return { index, event: validation.event, ref: named, at, personal, keyLink };
  }

  /**
   * The key of each event that holds a personal value, by event index (undefined: none needed),
   * asked for in one batch. An event whose period's key was shredded is refused into `rejected`.
   */
  async #keysFor(
    admitted: readonly Admitted[],
    rejected: StreamIngestRejection[],
  ): Promise<Map<number, FieldKey | undefined>> {
    const keys = new Map<number, FieldKey | undefined>();
    const needing = admitted.filter(({ index, event }) => {
      if (event.personal.size === 0) keys.set(index, undefined);
      return event.personal.size > 0;
    });
    const found = await this.keys.keysFor(
      needing.map(({ event, at }) => ({
        contract: event.contract.name,
        keyLink: event.keyLinkValue,
        subject: event.subjectValue,
        eventAt: at,
      })),
    );
    needing.forEach(({ index, event, keyLink }, position) => {
      const key = found[position];
      if (key !== undefined && key !== 'shredded') {
        keys.set(index, key);
        return;
      }
      rejected.push({
        index,
        id: event.id,
        reasons: [
          {
            code: 'KEY_SHREDDED',
            path: `data.${keyLink}`,
            message:
              'The key for this key-link value and period was shredded; events of that period are not accepted again.',
          },
        ],
      });
    });
    return keys;
  }

  #encrypt(admitted: Admitted, key: FieldKey | undefined, receivedAt: number): NewStreamEvent {
    const { event, ref, at, personal } = admitted;
    const encrypted = encryptEvent(event.data, { contract: ref, personal }, () => {
      // Only events with a personal value present get here without a key; encryptEvent asks
      // for one exactly then.
      if (key === undefined) throw new Error(`no key was fetched for event ${event.id} of ${ref}`);
      return key;
    });
    return {
      id: event.id,
      contract: ref,
      key_id: encrypted.keyId ?? null,
      at,
      received_at: receivedAt,
      consent: JSON.stringify([...event.consent]),
      data: JSON.stringify(encrypted.data),
    };
  }

  /**
   * `read` for a caller: the HTTP route (exporters run as Lethe itself and call `read`). A derived
   * stream hands out personal data in clear, so its read is audited first (fail closed, as every
   * read of subject data); the base stream holds only ciphertext.
   */
  async readAs(principal: Principal, view: StreamView, afterSeq: number, limit: number): Promise<StreamPage> {
    authorize(principal, 'streams:read');
    if (view.purposes !== undefined) {
      const purposes = [...new Set(view.purposes)].sort().join(',');
      await auditRead(this.store, principal, 'streams.read', `purposes:${purposes} after:${afterSeq}`);
    }
    return this.read(view, afterSeq, limit);
  }

  async read(view: StreamView, afterSeq: number, limit: number): Promise<StreamPage> {
    const rows = await this.store.repository.streams.eventsAfter(afterSeq, limit);
    const lastSeq = rows.at(-1)?.seq ?? afterSeq;
    if (view.purposes === undefined)
      return { events: rows.map((row) => viewed(row, parsed(row).data)), lastSeq };

    const taxonomy = await this.contracts.purposes();
    const streamPurposes = [...new Set(view.purposes)];
    const unknown = streamPurposes.find((purpose) => !taxonomy.has(purpose));
    if (unknown !== undefined) {
      throw new AppError('INVALID_PURPOSE', `"${unknown}" is not a purpose key in the purpose taxonomy.`);
    }
    // First pass: which events are in, and the keys they need, fetched before any is opened.
    const included: {
      row: StreamEventRow;
      data: Record<string, unknown>;
      consent: string[];
      personal: PersonalAttributes;
    }[] = [];
    const keyIds = new Set<string>();
    for (const row of rows) {
      const { data, consent } = parsed(row);
      if (!purposesCovered(consent, streamPurposes, taxonomy)) continue;
      const personal = await this.#personalFor(row.contract, streamPurposes, taxonomy);
      for (const id of keyIdsOf(data, personal)) keyIds.add(id);
      included.push({ row, data, consent, personal });
    }
    const keys = await this.keys.keysById(keyIds);

    const events: ViewedStreamEvent[] = [];
    for (const { row, data, consent, personal } of included) {
      const derived = deriveEvent(data, new Set([...consent, ...streamPurposes]), {
        contract: row.contract,
        personal,
        purposes: new Set(streamPurposes),
        mode: view.withheld ?? 'keep-encrypted',
        keyLookup: (id) => keys.get(id),
      });
      if (!derived.included) continue;
      events.push(viewed(row, derived.data, derived.unreadable));
    }
    return { events, lastSeq };
  }

  /**
   * The contract's personal attributes with the purposes a stream may read them for: an
   * attribute allowed for `marketing` may be read by a stream for `marketing.email`, a purpose
   * below it in the taxonomy.
   */
  async #personalFor(
    ref: string,
    streamPurposes: readonly string[],
    taxonomy: Taxonomy,
  ): Promise<PersonalAttributes> {
    const parsedRef = parseContractRef(ref);
    const contract = parsedRef && (await this.contracts.find(parsedRef));
    if (!contract) throw new Error(`the stored event names contract ${ref}, which the store does not hold`);
    const personal = new Map<string, readonly string[]>();
    for (const { attribute, purposes } of contract.personal) {
      const below = streamPurposes.filter((wanted) =>
        purposes.some((allowed) => taxonomy.covers(allowed, wanted)),
      );
      personal.set(attribute, [...new Set([...purposes, ...below])]);
    }
    return personal;
  }

  waitForEvents(afterSeq: number, timeoutMs: number): Promise<void> {
    if (this.#lastCommitted > afterSeq) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        afterSeq,
        wake: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, timeoutMs);
      timer.unref?.();
      this.#waiters.add(waiter);
    });
  }

  #committed(lastSeq: number): void {
    this.#lastCommitted = Math.max(this.#lastCommitted, lastSeq);
    for (const waiter of [...this.#waiters]) {
      if (lastSeq > waiter.afterSeq) waiter.wake();
    }
  }
}

function parsed(row: StreamEventRow): { data: Record<string, unknown>; consent: string[] } {
  return {
    data: JSON.parse(row.data) as Record<string, unknown>,
    consent: JSON.parse(row.consent) as string[],
  };
}

function viewed(
  row: StreamEventRow,
  data: Record<string, unknown>,
  unreadable: readonly string[] = [],
): ViewedStreamEvent {
  return {
    seq: row.seq,
    id: row.id,
    contract: row.contract,
    consent: JSON.parse(row.consent) as string[],
    at: toIso(row.at),
    data,
    ...(unreadable.length > 0 ? { unreadable } : {}),
  };
}
