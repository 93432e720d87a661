import { describe, expect, it } from 'vitest';
import { purposesCovered } from './purposes-covered.js';
import { Taxonomy } from '../../lib/taxonomy.js';

const purposes = Taxonomy.purposes();

describe('purposesCovered', () => {
  it('covers a purpose by itself or by a parent, never by a child', () => {
    expect(purposesCovered(['marketing.email'], ['marketing.email'], purposes)).toBe(true);
    expect(
      purposesCovered(['marketing'], ['marketing.email', 'marketing.advertising.third_party'], purposes),
    ).toBe(true);
    expect(purposesCovered(['marketing.email'], ['marketing'], purposes)).toBe(false);
    expect(purposesCovered(['marketing'], ['marketing.email', 'analytics'], purposes)).toBe(false);
    expect(
      purposesCovered(new Set(['essential', 'analytics']), ['essential.orders', 'analytics'], purposes),
    ).toBe(true);
  });

  it('does not mistake a prefix for a parent', () => {
    const extended = Taxonomy.purposes([{ key: 'marketing.email_digest', description: 'x' }]);
    expect(purposesCovered(['marketing.email'], ['marketing.email_digest'], extended)).toBe(false);
  });

  it('covers no purposes with any consent, and nothing with no consent', () => {
    expect(purposesCovered([], [], purposes)).toBe(true);
    expect(purposesCovered([], ['essential'], purposes)).toBe(false);
  });
});
