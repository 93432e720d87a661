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
export class KeyCache<T = FieldKey> {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** Map order is insertion order: the first entry is the oldest set. */
  readonly #entries = new Map<string, { readonly value: T; readonly expiresAt: number }>();

  constructor(options: KeyCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
    this.#maxEntries = options.maxEntries ?? DEFAULT_KEY_CACHE_MAX_ENTRIES;
    this.#now = options.now ?? Date.now;
    if (!(this.#ttlMs > 0)) throw new RangeError(`a key cache TTL is positive, got ${this.#ttlMs}`);
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) {
      throw new RangeError(`a key cache holds at least one entry, got ${this.#maxEntries}`);
    }
  }

  /** The value set for `keyId`, unless it has expired. */
  get(keyId: string): T | undefined {
    const entry = this.#entries.get(keyId);
    if (entry === undefined) return undefined;
    if (this.#now() >= entry.expiresAt) {
      this.#entries.delete(keyId);
      return undefined;
    }
    return entry.value;
  }

  set(keyId: string, value: T): void {
    this.#entries.delete(keyId);
    this.#entries.set(keyId, { value, expiresAt: this.#now() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
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
