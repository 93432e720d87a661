import { describe, expect, it } from 'vitest';
import { shortenTcString, usedWithoutConsent } from './consent.js';

describe('usedWithoutConsent', () => {
  const lastUseAt = '2024-06-03T09:00:00.000Z';
  it('is false for a use under a policy that needs no consent', () => {
    expect(usedWithoutConsent({ lastUseAt })).toBe(false);
  });
  it('is true when no use was ever consented, or the latest one was not', () => {
    expect(usedWithoutConsent({ lastUseAt, consentPurpose: 'marketing.email' })).toBe(true);
    expect(
      usedWithoutConsent({
        lastUseAt,
        consentPurpose: 'marketing.email',
        lastConsentedUseAt: '2024-04-02T09:00:00.000Z',
      }),
    ).toBe(true);
  });
  it('is false when the latest use is the latest consented one', () => {
    expect(
      usedWithoutConsent({ lastUseAt, consentPurpose: 'marketing.email', lastConsentedUseAt: lastUseAt }),
    ).toBe(false);
  });
});

describe('shortenTcString', () => {
  it('keeps a short text and cuts a long one with an ellipsis', () => {
    expect(shortenTcString('CQabc')).toBe('CQabc');
    expect(shortenTcString('CQ'.repeat(100))).toBe(`${'CQ'.repeat(8)}…`);
  });
});
