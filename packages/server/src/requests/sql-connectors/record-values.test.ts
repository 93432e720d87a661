import { describe, expect, it } from 'vitest';
import { formatPrimaryKey, toJsonSafe, valueText } from './record-values.js';

describe('toJsonSafe', () => {
  it('turns driver values into what JSON can carry, losing nothing', () => {
    expect(toJsonSafe(Buffer.from([1, 2, 3]))).toBe('AQID');
    expect(toJsonSafe(new Uint8Array([255]))).toBe('/w==');
    expect(toJsonSafe(42n)).toBe(42);
    expect(toJsonSafe(9_007_199_254_740_993n)).toBe('9007199254740993');
    expect(toJsonSafe(new Date('2024-03-01T10:00:00Z'))).toBe('2024-03-01T10:00:00.000Z');
    expect(toJsonSafe(new Date(Number.NaN))).toBeNull();
    expect(toJsonSafe(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(toJsonSafe(undefined)).toBeNull();
    expect(toJsonSafe({ nested: [1n, Buffer.from('a')] })).toEqual({ nested: [1, 'YQ=='] });
    expect(toJsonSafe('text')).toBe('text');
    expect(toJsonSafe(true)).toBe(true);
  });
});

describe('valueText and formatPrimaryKey', () => {
  it('shows NULL as empty and objects as JSON', () => {
    expect(valueText(null)).toBe('');
    expect(valueText(7n)).toBe('7');
    expect(valueText({ a: 1 })).toBe('{"a":1}');
  });

  it('gives one key column as its value, several as col=value pairs', () => {
    expect(formatPrimaryKey(['id'], { id: 12n })).toBe('12');
    expect(formatPrimaryKey(['tenant', 'no'], { tenant: 't1', no: 3 })).toBe('tenant=t1,no=3');
  });
});
