import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_CACHE_TTL_MS, KeyCache } from './key-cache.js';

// lru-cache takes a start time of 0 for "never set": the clock starts at a real epoch.
function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('KeyCache', () => {
  it('serves an entry for its lifetime, then no more, however often it is read', () => {
    const time = clock();
    const cache = new KeyCache<string>({ now: time.now });
    cache.set('k1', 'material');
    // Served until its lifetime is up and not at that instant: "at most ttlMs", as other nodes'
    // shredding relies on (lru-cache alone would still serve it at exactly the TTL).
    time.advance(DEFAULT_KEY_CACHE_TTL_MS - 1);
    expect(cache.get('k1')).toBe('material');
    time.advance(1);
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('takes a custom lifetime, counted from the last set', () => {
    const time = clock();
    const cache = new KeyCache<string>({ ttlMs: 100, now: time.now });
    cache.set('k1', 'a');
    time.advance(60);
    cache.set('k1', 'b');
    time.advance(60);
    expect(cache.get('k1')).toBe('b');
    time.advance(41);
    expect(cache.get('k1')).toBeUndefined();
  });

  it('holds at most maxEntries, the oldest set going first', () => {
    const cache = new KeyCache<number>({ maxEntries: 2, now: clock().now });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 3);
    cache.set('c', 4);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(3);
    expect(cache.get('c')).toBe(4);
  });

  it('does not make an entry younger by reading it', () => {
    const cache = new KeyCache<number>({ maxEntries: 2, now: clock().now });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(2);
  });

  it('forgets one key on invalidate, all on clear', () => {
    const cache = new KeyCache<string>({ now: clock().now });
    cache.set('a', 'x');
    cache.set('b', 'y');
    cache.invalidate('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe('y');
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('refuses an unbounded configuration', () => {
    expect(() => new KeyCache({ ttlMs: 0 })).toThrow(RangeError);
    expect(() => new KeyCache({ ttlMs: Number.NaN })).toThrow(RangeError);
    expect(() => new KeyCache({ maxEntries: 0 })).toThrow(RangeError);
  });
});
