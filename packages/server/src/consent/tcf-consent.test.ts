import { describe, expect, it } from 'vitest';
import { TCF_V1_STRING, tcString } from '../../test/support/tc-strings.js';
import { AppError } from '../lib/app-error.js';
import { decodeTcfConsent, TCF_PURPOSE_MAP } from './tcf-consent.js';
import { DEFAULT_PURPOSES } from '../lib/taxonomy.js';

const lastUpdated = '2024-02-03T00:00:00Z';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return undefined;
}

describe('decodeTcfConsent', () => {
  it('maps every TCF v2.2 purpose once, only to keys of the default purpose taxonomy', () => {
    expect(TCF_PURPOSE_MAP.map((row) => row.tcfPurpose)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const defaults = new Set(DEFAULT_PURPOSES.map((entry) => entry.key));
    for (const row of TCF_PURPOSE_MAP) {
      if (row.purpose !== undefined) expect(defaults.has(row.purpose), row.purpose).toBe(true);
    }
  });

  it('grants the keys whose TCF purposes are all set and withdraws every other mapped key', () => {
    const consent = decodeTcfConsent(tcString({ purposeConsents: [1, 2, 3, 7, 9, 10], lastUpdated }));
    expect(consent.purposes).toEqual({
      'marketing.advertising': true, // 2
      'marketing.profiling': false, // 3 set, 4 not: profiles may be built but not used
      'personalization.recommendations': false,
      'analytics.reporting': true, // 7
      'analytics.product': false,
      analytics: true, // 9
      research: true, // 10
      personalization: false,
    });
    expect(consent.at).toBe(Date.parse(lastUpdated));
  });

  it('needs both halves of a pair: 3+4 for profiling, 5+6 for recommendations', () => {
    const consent = decodeTcfConsent(tcString({ purposeConsents: [3, 4, 6], lastUpdated }));
    expect(consent.purposes['marketing.profiling']).toBe(true);
    expect(consent.purposes['personalization.recommendations']).toBe(false);
  });

  it('an empty choice withdraws every mapped purpose (the string is the whole state)', () => {
    const consent = decodeTcfConsent(tcString({ purposeConsents: [], lastUpdated }));
    expect(Object.values(consent.purposes)).toHaveLength(8);
    expect(Object.values(consent.purposes).every((granted) => !granted)).toBe(true);
  });

  it('reads the core purpose consents, not the publisher segment (written even when unused)', () => {
    const consent = decodeTcfConsent(
      tcString({ purposeConsents: [2, 7], publisherConsents: [8, 10], lastUpdated }),
    );
    expect(consent.purposes['marketing.advertising']).toBe(true);
    expect(consent.purposes['analytics.reporting']).toBe(true);
    expect(consent.purposes['analytics.product']).toBe(false);
    expect(consent.purposes['research']).toBe(false);
  });

  it('proves itself by the CMP, the policy and the vendor list version', () => {
    const consent = decodeTcfConsent(
      tcString({ purposeConsents: [2], lastUpdated, cmpId: 31, cmpVersion: 5, vendorListVersion: 212 }),
    );
    expect(consent.proof).toEqual({
      method: 'tcf',
      source: 'cmp:31 v5',
      noticeVersion: 'tcf-policy:4 gvl:212',
    });
  });

  it('refuses TCF v1 and policies before v2.2, and what is no TC string', () => {
    expect(codeOf(() => decodeTcfConsent(TCF_V1_STRING))).toBe('TCF_VERSION_UNSUPPORTED');
    expect(
      codeOf(() => decodeTcfConsent(tcString({ purposeConsents: [2], lastUpdated, policyVersion: 2 }))),
    ).toBe('TCF_VERSION_UNSUPPORTED');
    const good = tcString({ purposeConsents: [2], lastUpdated });
    for (const bad of ['hello', 'CPc', 'C!!!', '', good.slice(0, 20), 'IAAA', `.${good}`]) {
      expect(
        codeOf(() => decodeTcfConsent(bad)),
        bad,
      ).toBe('TCF_STRING_INVALID');
    }
  });
});
