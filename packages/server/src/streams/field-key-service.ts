import type { StreamKey } from '@lethe/api';
import type { MasterKey } from '../auth/master-key.js';
import { authorize, maySeeSubjectIds } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { parseDuration } from '../auth/token-rules.js';
import { AppError } from '../lib/app-error.js';
import {
  createFieldKey,
  DEFAULT_KEY_ROTATION_MS,
  keyPeriod,
  unwrapFieldKey,
  type KeyPeriod,
  wrapFieldKey,
  type FieldKey,
} from './field-crypto.js';
import { DEFAULT_KEY_CACHE_TTL_MS, KeyCache } from './key-cache.js';
import { toIso } from '../lib/time.js';
import type { Repository } from '../store/repository.js';
import type { FieldKeyRow } from './stream-tables.js';
import type { Store } from '../store/store.js';
import { audit } from '../audit/audit-trail.js';
import { byCodeUnit } from '../lib/by-code-unit.js';

/** One event's key request: its contract, key-link value, subject and time. */
export interface KeyRequest {
  readonly contract: string;
  readonly keyLink: string;
  readonly subject: string;
  readonly eventAt: number;
}

/** The key-link values (with their subjects) that need a key for one contract and period. */
interface PeriodRequests {
  readonly contract: string;
  readonly period: KeyPeriod;
  readonly subjects: Map<string, string>;
}

/** Keys shredded per transaction by the retention sweep. */
const SHRED_BATCH = 500;

/** The meta key under which the store remembers the rotation period its keys were made with. */
const ROTATION_META_KEY = 'stream_key_rotation_ms';
const MIN_ROTATION_MS = 60_000;

/** `LETHE_STREAM_KEY_ROTATION` (`24h`, `7d`, `1h`) in milliseconds; undefined when unset. */
export function streamKeyRotationFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): number | undefined {
  const text = env['LETHE_STREAM_KEY_ROTATION'];
  if (text === undefined || text === '') return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms < MIN_ROTATION_MS) {
    throw new Error(
      `LETHE_STREAM_KEY_ROTATION must be a duration of at least 1m like 24h or 7d, got "${text}"`,
    );
  }
  return ms;
}

export interface FieldKeyServiceOptions {
  /** Length of a key's rotation period (default one day, periods anchored at the epoch). */
  readonly rotationMs?: number;
  /** How long an unwrapped key (or a "shredded" answer) is served from memory (default 5 s). */
  readonly cacheTtlMs?: number;
  /** Epoch ms; injectable for tests. */
  readonly now?: () => number;
}

/**
 * The field keys of privacy streams, kept in Lethe's store wrapped by the master key: one key per
 * (contract, key-link value, rotation period), made on first use and shredded on erasure.
 *
 * Shredding deletes the key and leaves a tombstone that holds no key material, so every
 * ciphertext made under it, wherever it was copied, can no longer be opened; a tombstoned period
 * never gets a key again (`KEY_SHREDDED`). Readers on other nodes stop serving a shredded key
 * within the cache TTL; the node that shreds forgets it at once.
 *
 * Listing keys is `stream-keys:read`, shredding `stream-keys:shred`; a completed delete request
 * shreds its subject's keys as Lethe itself (`shredSubjectIn`, in the request's transaction).
 */
export class FieldKeyService {
  readonly #rotationMs: number;
  readonly #now: () => number;
  readonly #cache: KeyCache<FieldKey | 'shredded'>;

  constructor(
    private readonly store: Store,
    private readonly masterKey: MasterKey,
    options: FieldKeyServiceOptions = {},
  ) {
    this.#rotationMs = options.rotationMs ?? DEFAULT_KEY_ROTATION_MS;
    this.#now = options.now ?? Date.now;
    this.#cache = new KeyCache({ ttlMs: options.cacheTtlMs ?? DEFAULT_KEY_CACHE_TTL_MS, now: this.#now });
    keyPeriod(0, this.#rotationMs); // refuses a bad rotation period now rather than on first use
  }

  /**
   * Makes sure the store's keys and this server agree on the rotation period: recorded on first
   * start, and changed later only while no key exists. Periods are anchored at the epoch, so keys
   * of another length would collide with the new periods; rather than refuse events one by one,
   * the server refuses to start and says why.
   */
  async adoptRotation(): Promise<void> {
    const wanted = String(this.#rotationMs);
    const stored = await this.store.transaction((repository) =>
      repository.meta.valueOrInsert(ROTATION_META_KEY, wanted),
    );
    if (stored === wanted) return;
    if (await this.store.repository.fieldKeys.hasKeys()) {
      throw new Error(
        `the stream keys in the store rotate every ${Number(stored) / 60_000} min, but ` +
          `LETHE_STREAM_KEY_ROTATION asks for ${this.#rotationMs / 60_000} min; the rotation period ` +
          'can only change while no stream key exists (unset LETHE_STREAM_KEY_ROTATION or set it back)',
      );
    }
    await this.store.transaction((repository) =>
      repository.meta.replaceValue(ROTATION_META_KEY, stored, wanted),
    );
  }

  /**
   * The key that encrypts an event of `contract` at `eventAt` for the key-link value `keyLink`
   * (of `subject`): the key of the event's rotation period, made if there is none yet. Concurrent
   * calls for the same period all get the same key. Throws `KEY_SHREDDED` when that period's key
   * was shredded: it is never made again, so nothing new is readable under a shredded period.
   */
  async keyFor(contract: string, keyLink: string, subject: string, eventAt: number): Promise<FieldKey> {
    const [key] = await this.keysFor([{ contract, keyLink, subject, eventAt }]);
    if (key === undefined || key === 'shredded') {
      throw new AppError('KEY_SHREDDED', undefined, {
        contract,
        periodStart: keyPeriod(eventAt, this.#rotationMs).start,
      });
    }
    return key;
  }

  /**
   * `keyFor` for a batch of events, with one read for the keys that exist and one transaction
   * for all the keys to be made: the answer at each index is the key of that request's period,
   * or `'shredded'` where that period's key was shredded (never made again).
   */
  async keysFor(requests: readonly KeyRequest[]): Promise<(FieldKey | 'shredded')[]> {
    const periods = new Map<string, PeriodRequests>();
    const slotOf = (request: KeyRequest) => {
      const period = keyPeriod(request.eventAt, this.#rotationMs);
      const group = `${request.contract}\0${period.start}`;
      let entry = periods.get(group);
      if (entry === undefined) {
        entry = { contract: request.contract, period, subjects: new Map() };
        periods.set(group, entry);
      }
      // The first event of a key-link value names the subject its key is tied to.
      if (!entry.subjects.has(request.keyLink)) entry.subjects.set(request.keyLink, request.subject);
      return `${group}\0${request.keyLink}`;
    };
    const slots = requests.map(slotOf);
    const found = new Map<string, FieldKey | 'shredded'>();
    const missing: PeriodRequests[] = [];
    const queries = this.store.repository.fieldKeys;
    for (const [group, entry] of periods) {
      const rows = await queries.findActiveKeys(entry.contract, entry.period.end, [...entry.subjects.keys()]);
      for (const row of rows) found.set(`${group}\0${row.key_link}`, this.#open(row));
      const absent = [...entry.subjects].filter(([keyLink]) => !found.has(`${group}\0${keyLink}`));
      if (absent.length > 0) missing.push({ ...entry, subjects: new Map(absent) });
    }
    if (missing.length > 0) {
      await this.store.transaction(async (repository) => {
        for (const entry of missing) {
          const group = `${entry.contract}\0${entry.period.start}`;
          for (const [keyLink, key] of await this.#makeKeys(repository, entry)) {
            found.set(`${group}\0${keyLink}`, key);
          }
        }
      });
    }
    return slots.map((slot) => found.get(slot)!);
  }

  /**
   * Makes the keys of one period inside the caller's transaction. Inserts first (a no-op where
   * another caller won the race), then looks for tombstones: a shred committed at any point
   * before the insert is seen here, and the keys just made for shredded periods are taken out
   * again before they encrypt anything.
   */
  async #makeKeys(
    repository: Repository,
    entry: PeriodRequests,
  ): Promise<Map<string, FieldKey | 'shredded'>> {
    const { contract, period } = entry;
    const now = this.#now();
    const made = [...entry.subjects]
      .sort(([a], [b]) => byCodeUnit(a, b)) // one insert order: no deadlock between batches
      .map(([keyLink, subject]) =>
        createFieldKey({ keyLink, subject, eventAt: period.start, now, rotationMs: this.#rotationMs }),
      );
    await repository.fieldKeys.insertKeys(
      made.map((key) => ({
        id: key.id,
        contract,
        key_link: key.keyLink,
        subject: key.subject,
        period_start: period.start,
        period_end: period.end,
        wrapped: wrapFieldKey(this.masterKey, key),
        created_at: key.createdAt,
      })),
    );
    const keyLinks = made.map((key) => key.keyLink);
    const shredded = await repository.fieldKeys.shreddedKeyLinks(
      contract,
      keyLinks,
      period.start,
      period.end,
    );
    await repository.fieldKeys.deleteUnusedKeys(
      made.filter((key) => shredded.has(key.keyLink)).map((key) => key.id),
    );
    const keys = new Map<string, FieldKey | 'shredded'>();
    for (const keyLink of shredded) keys.set(keyLink, 'shredded');
    const live = keyLinks.filter((keyLink) => !shredded.has(keyLink));
    for (const row of await repository.fieldKeys.findActiveKeys(contract, period.end, live)) {
      keys.set(row.key_link, this.#open(row));
    }
    const lost = live.find((keyLink) => !keys.has(keyLink));
    if (lost !== undefined) {
      // Say what was seen and both ways it can happen: the log line is all an operator gets.
      // Ingest lets only ids (lib/id-rule.ts) through as key links, which every store keeps as given.
      throw new Error(
        `a field key of contract ${contract} for the period starting ${toIso(period.start)} was made ` +
          'but cannot be read back: the unique (contract, key link, period start) row has another ' +
          'period end (keys made under another LETHE_STREAM_KEY_ROTATION), or the store did not keep ' +
          'the key-link value as given',
      );
    }
    return keys;
  }

  /** The key `id`; `'shredded'` when it was shredded; undefined when no such key was ever made. */
  async keyById(id: string): Promise<FieldKey | 'shredded' | undefined> {
    return (await this.keysById([id])).get(id);
  }

  /**
   * `keyById` for the keys of a page of events: from the cache where it has them, the others
   * with one read of the keys and one of the tombstones. Ids that were never keys are absent.
   */
  async keysById(ids: Iterable<string>): Promise<Map<string, FieldKey | 'shredded'>> {
    const found = new Map<string, FieldKey | 'shredded'>();
    const uncached: string[] = [];
    for (const id of new Set(ids)) {
      const cached = this.#cache.get(id);
      if (cached !== undefined) found.set(id, cached);
      else uncached.push(id);
    }
    if (uncached.length === 0) return found;
    const queries = this.store.repository.fieldKeys;
    for (const row of await queries.keysByIds(uncached)) found.set(row.id, this.#open(row));
    const unknown = uncached.filter((id) => !found.has(id));
    for (const id of await queries.tombstoneIds(unknown)) {
      this.#cache.set(id, 'shredded');
      found.set(id, 'shredded');
    }
    return found;
  }

  /** Shreds every key of `subject`; returns how many were shredded. */
  async shredSubject(principal: Principal, subject: string, reason: string): Promise<number> {
    authorize(principal, 'stream-keys:shred');
    const shredded = await this.store.transaction((repository) =>
      this.shredSubjectIn(repository, principal, subject, reason, `subject:${subject}`),
    );
    return shredded.length;
  }

  /**
   * Shreds every key of `subject` inside the caller's transaction and audits it under `target`;
   * returns the ids shredded. This node's cache forgets them at once (a read racing the commit
   * may cache a key again, for the cache TTL at most).
   */
  async shredSubjectIn(
    repository: Repository,
    principal: Principal,
    subject: string,
    reason: string,
    target: string,
  ): Promise<string[]> {
    const ids = await repository.fieldKeys.keyIdsOfSubject(subject);
    const done = await repository.fieldKeys.shred(ids, this.#now(), reason);
    await audit(repository, principal, 'keys.shred', `${target} keys=${done.length}`);
    this.#forget(done);
    return done;
  }

  /** Shreds the key `id`; returns 1, or 0 when there is no such key (or it is shredded already). */
  async shredKey(principal: Principal, id: string, reason: string): Promise<number> {
    authorize(principal, 'stream-keys:shred');
    const shredded = await this.store.transaction(async (repository) => {
      const row = await repository.fieldKeys.getKey(id);
      if (row === undefined) return [];
      const done = await repository.fieldKeys.shred([id], this.#now(), reason);
      await audit(repository, principal, 'keys.shred', `subject:${row.subject} keys=${done.length}`);
      return done;
    });
    this.#forget(shredded);
    return shredded.length;
  }

  /**
   * Shreds the keys of `contract` whose rotation period ended at or before `endedBy` (key
   * retention), in audited batches; returns how many were shredded.
   */
  async shredEndedBy(principal: Principal, contract: string, endedBy: number): Promise<number> {
    authorize(principal, 'stream-keys:shred');
    let total = 0;
    for (;;) {
      const shredded = await this.store.transaction(async (repository) => {
        const ids = await repository.fieldKeys.keyIdsEndedBy(contract, endedBy, SHRED_BATCH);
        const done = await repository.fieldKeys.shred(ids, this.#now(), 'key retention');
        if (done.length > 0) {
          await audit(repository, principal, 'keys.shred', `contract:${contract} keys=${done.length}`);
        }
        return done;
      });
      this.#forget(shredded);
      total += shredded.length;
      if (shredded.length < SHRED_BATCH) return total;
    }
  }

  /** The keys of `subject`, live and shredded, without any key material. */
  async keysOfSubject(principal: Principal, subject: string): Promise<StreamKey[]> {
    authorize(principal, 'stream-keys:read');
    // Even an empty list tells whether Lethe holds the subject: the same question the subject view refuses.
    if (!maySeeSubjectIds(principal)) throw new AppError('SUBJECT_IDS_NOT_GRANTED');
    const queries = this.store.repository.fieldKeys;
    const [live, shredded] = await Promise.all([
      queries.keysOfSubject(subject),
      queries.tombstonesOfSubject(subject),
    ]);
    const keys: StreamKey[] = [
      ...live.map((row) => ({
        id: row.id,
        contract: row.contract,
        periodStart: toIso(row.period_start),
        periodEnd: toIso(row.period_end),
        createdAt: toIso(row.created_at),
      })),
      ...shredded.map((row) => ({
        id: row.id,
        contract: row.contract,
        periodStart: toIso(row.period_start),
        periodEnd: toIso(row.period_end),
        shreddedAt: toIso(row.shredded_at),
        shredReason: row.reason,
      })),
    ];
    return keys.sort((a, b) => a.periodStart.localeCompare(b.periodStart) || a.id.localeCompare(b.id));
  }

  #open(row: FieldKeyRow): FieldKey {
    const key: FieldKey = {
      id: row.id,
      keyLink: row.key_link,
      subject: row.subject,
      material: unwrapFieldKey(this.masterKey, row.id, row.wrapped),
      createdAt: row.created_at,
      expiresAt: row.period_end,
    };
    this.#cache.set(row.id, key);
    return key;
  }

  #forget(ids: readonly string[]): void {
    for (const id of ids) this.#cache.invalidate(id);
  }
}
