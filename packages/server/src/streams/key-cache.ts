import { LRUCache } from 'lru-cache';
import type { FieldKey } from './field-crypto.js';

/** How long an unwrapped key may be served from memory before the store is asked again. */
export const DEFAULT_KEY_CACHE_TTL_MS = 5_000;
export const DEFAULT_KEY_CACHE_MAX_ENTRIES = 10_000;

export interface KeyCacheOptions {
  /** Lifetime of an entry from when it was set; reading does not extend it. */
  readonly ttlMs?: number;
  /** Beyond this many entries the oldest go first. */
  readonly maxEntries?: number;
  /** Epoch ms; injectable for tests. */
  readonly now?: () => number;
}

/**
 * A small cache of unwrapped field keys by key id (or of anything else keyed by id: `'shredded'`
 * markers, for instance), so a derived stream does not unwrap the same key for every event.
 *
 * Every entry lives at most `ttlMs` (5 s by default) from when it was set, however often it is
 * read: a key shredded on one node stops being served by every other node's cache within that
 * time, with no messages between nodes. The node that shreds calls `invalidate` for immediate
 * effect there. The size is bounded too (`maxEntries`, oldest set first out), so memory holding
 * raw key material stays small.
 */
export class KeyCache<T extends NonNullable<unknown> = FieldKey> {
  readonly #entries: LRUCache<string, T>;

  constructor(options: KeyCacheOptions = {}) {
    const ttlMs = options.ttlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
    const maxEntries = options.maxEntries ?? DEFAULT_KEY_CACHE_MAX_ENTRIES;
    if (!(ttlMs > 0)) throw new RangeError(`a key cache TTL is positive, got ${ttlMs}`);
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`a key cache holds at least one entry, got ${maxEntries}`);
    }
    const now = options.now ?? Date.now;
    // ttlResolution 0: ask the clock on every read, so an entry is never served past its lifetime.
    this.#entries = new LRUCache({ max: maxEntries, ttl: ttlMs, ttlResolution: 0, perf: { now } });
  }

  /** The value set for `keyId`, unless it has expired. */
  get(keyId: string): T | undefined {
    // An entry is gone once `ttlMs` have passed, the boundary included (lru-cache would still
    // serve it at exactly `ttlMs`): "at most ttlMs" is what other nodes' shredding relies on.
    if (this.#entries.getRemainingTTL(keyId) <= 0) {
      this.#entries.delete(keyId);
      return undefined;
    }
    // `peek`, not `get`: a read must not make an entry younger, the oldest set goes first.
    return this.#entries.peek(keyId);
  }

  set(keyId: string, value: T): void {
    this.#entries.set(keyId, value);
  }

  /** Forgets one key, e.g. the one just shredded. */
  invalidate(keyId: string): void {
    this.#entries.delete(keyId);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Entries held, expired ones not yet evicted included. */
  get size(): number {
    return this.#entries.size;
  }
}
