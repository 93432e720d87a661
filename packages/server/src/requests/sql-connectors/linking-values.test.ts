import { describe, expect, it } from 'vitest';
import { LinkingValues } from './linking-values.js';

describe('LinkingValues', () => {
  it('deduplicates by value, not identity, and keeps the first form', () => {
    const values = new LinkingValues();
    expect(values.add(5)).toBe(true);
    expect(values.add(5n)).toBe(false);
    expect(values.add('5')).toBe(true);
    expect(values.add(Buffer.from('ab'))).toBe(true);
    expect(values.add(Buffer.from('ab'))).toBe(false);
    expect(values.add(null)).toBe(false);
    expect(values.size).toBe(3);
    expect(values.values()).toEqual([5, '5', Buffer.from('ab')]);
    expect(values.has(5n)).toBe(true);
    expect(values.has(undefined)).toBe(false);
  });

  it('unites sets', () => {
    const a = new LinkingValues();
    const b = new LinkingValues();
    a.add(1);
    b.add(1);
    b.add(2);
    expect(LinkingValues.union([a, b]).values()).toEqual([1, 2]);
  });
});
