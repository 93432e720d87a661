import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isConsentedUse, NO_CONSENT } from '../consent/consent.js';
import { addDuration, parseDuration } from '../lib/duration.js';
import { fieldExpiry, subjectExpiry, useKeepsUntil, usageKeepsUntil } from './expiry.js';
import { aggregateBatch } from './usage-batch.js';

const RETENTION: Record<string, string> = {
  'user-account-access': 'P2Y',
  'order-delivery': 'P120D',
  'send-marketing-email': 'P6M',
};
const retentionEnd = (policy: string, lastUseAt: number) =>
  addDuration(lastUseAt, parseDuration(RETENTION[policy]!)!);
const at = Date.parse;

describe('fieldExpiry', () => {
  it('takes the latest end over all policies, and names the deciding one', () => {
    const expiry = fieldExpiry(
      [
        { policy: 'user-account-access', lastUseAt: at('2023-01-05T00:00:00Z'), lastSystem: 'accounts' },
        { policy: 'order-delivery', lastUseAt: at('2023-03-01T00:00:00Z'), lastSystem: 'orders' },
      ],
      retentionEnd,
    );
    expect(expiry).toEqual({
      expiresAt: at('2025-01-05T00:00:00Z'),
      policy: 'user-account-access',
      system: 'accounts',
    });
  });

  it('lets a later use under a shorter policy win when it ends later', () => {
    const expiry = fieldExpiry(
      [
        { policy: 'user-account-access', lastUseAt: at('2023-01-05T00:00:00Z'), lastSystem: 'accounts' },
        { policy: 'send-marketing-email', lastUseAt: at('2024-10-01T00:00:00Z'), lastSystem: 'mailer' },
      ],
      retentionEnd,
    );
    expect(expiry).toEqual({
      expiresAt: at('2025-04-01T00:00:00Z'),
      policy: 'send-marketing-email',
      system: 'mailer',
    });
  });

  it('is undefined without uses', () => {
    expect(fieldExpiry([], retentionEnd)).toBeUndefined();
    expect(subjectExpiry([])).toBeUndefined();
  });
});

describe('aggregateBatch', () => {
  const event = (subject: string, policy: string, fields: string[], iso: string, system = 'accounts') => ({
    id: undefined,
    subject,
    system,
    policy,
    fields,
    at: at(iso),
    keepsUntil: retentionEnd(policy, at(iso)),
  });

  it('folds repeated keys into one row change with count, first/last use and last system', () => {
    const batch = aggregateBatch([
      event('s1', 'order-delivery', ['orders.address'], '2023-03-01T00:00:00Z', 'orders'),
      event('s1', 'order-delivery', ['orders.address'], '2023-02-01T00:00:00Z', 'shipping'),
      event('s1', 'order-delivery', ['orders.address'], '2023-04-01T00:00:00Z', 'returns'),
    ]);
    expect(batch.usages).toEqual([
      {
        subject: 's1',
        field: 'orders.address',
        policy: 'order-delivery',
        firstUseAt: at('2023-02-01T00:00:00Z'),
        lastUseAt: at('2023-04-01T00:00:00Z'),
        count: 3,
        lastSystem: 'returns',
        lastConsentedUseAt: null,
      },
    ]);
    expect(batch.fields).toHaveLength(1);
    expect(batch.fields[0]?.system).toBe('returns');
  });

  it('keeps the subject candidate with the latest end and sorts keys', () => {
    const batch = aggregateBatch([
      event('s2', 'order-delivery', ['orders.address'], '2023-03-01T00:00:00Z'),
      event('s1', 'user-account-access', ['accounts.email', 'accounts.name'], '2023-01-05T00:00:00Z'),
      event('s1', 'order-delivery', ['orders.address'], '2023-03-01T00:00:00Z'),
    ]);
    expect(batch.subjects.map((s) => [s.subject, s.policy])).toEqual([
      ['s1', 'user-account-access'],
      ['s2', 'order-delivery'],
    ]);
    expect(batch.usages.map((u) => `${u.subject}/${u.field}`)).toEqual([
      's1/accounts.email',
      's1/accounts.name',
      's1/orders.address',
      's2/orders.address',
    ]);
  });
});

describe('the consent-aware rule (docs/consent.md)', () => {
  const P6M = (_policy: string, t: number) => addDuration(t, parseDuration('P6M')!);
  const t = (iso: string) => at(`${iso}T00:00:00Z`);
  const mail = (lastUseAt: number, lastConsentedUseAt: number | null) => ({
    policy: 'send-marketing-email',
    lastUseAt,
    lastSystem: 'mailer',
    lastConsentedUseAt,
  });
  const standing = { grantedAt: t('2024-01-01'), withdrawnAt: null };

  it('ignores consent for a policy that is not consent-based', () => {
    expect(usageKeepsUntil(mail(t('2024-03-01'), null), P6M, undefined)).toBe(t('2024-09-01'));
  });

  it('keeps a consented use for its retention while consent stands', () => {
    expect(usageKeepsUntil(mail(t('2024-03-01'), t('2024-03-01')), P6M, standing)).toBe(t('2024-09-01'));
  });

  it('cuts a consented use at the withdrawal', () => {
    const withdrawn = { grantedAt: t('2024-01-01'), withdrawnAt: t('2024-05-01') };
    expect(usageKeepsUntil(mail(t('2024-03-01'), t('2024-03-01')), P6M, withdrawn)).toBe(t('2024-05-01'));
  });

  it('keeps the retention end when it comes before the withdrawal', () => {
    const withdrawn = { grantedAt: t('2024-01-01'), withdrawnAt: t('2025-01-01') };
    expect(usageKeepsUntil(mail(t('2024-03-01'), t('2024-03-01')), P6M, withdrawn)).toBe(t('2024-09-01'));
  });

  it('keeps a violation only until the use itself ("delete now")', () => {
    expect(usageKeepsUntil(mail(t('2024-03-01'), null), P6M, NO_CONSENT)).toBe(t('2024-03-01'));
  });

  it('lets a later violation not extend a consented use, and not shorten it', () => {
    const withdrawn = { grantedAt: t('2024-01-01'), withdrawnAt: t('2024-05-01') };
    // consented 2024-03-01 (cut at 2024-05-01), then a use without consent on 2024-06-01: the
    // withdrawal still decides (the use after it extends nothing)
    expect(usageKeepsUntil(mail(t('2024-06-01'), t('2024-03-01')), P6M, withdrawn)).toBe(t('2024-05-01'));
    expect(usageKeepsUntil(mail(t('2024-06-01'), null), P6M, withdrawn)).toBe(t('2024-05-01'));
    // the violation lies before the cut: the consented part decides
    expect(
      usageKeepsUntil(mail(t('2024-04-15'), t('2024-03-01')), P6M, {
        ...withdrawn,
        withdrawnAt: t('2024-04-20'),
      }),
    ).toBe(t('2024-04-20'));
  });

  it('counts a re-grant: uses after it keep the field again', () => {
    const regranted = { grantedAt: t('2024-06-01'), withdrawnAt: null };
    expect(useKeepsUntil(t('2024-07-01'), P6M('', t('2024-07-01')), regranted)).toBe(t('2025-01-01'));
    // a late event from the older interval counts as a violation (only the latest interval is known)
    expect(useKeepsUntil(t('2024-03-01'), P6M('', t('2024-03-01')), regranted)).toBe(t('2024-03-01'));
  });

  it('mixes policies: a contract use keeps a field the withdrawn consent no longer does', () => {
    const withdrawn = { grantedAt: t('2023-01-01'), withdrawnAt: t('2024-05-01') };
    const expiry = fieldExpiry(
      [
        { policy: 'user-account-access', lastUseAt: t('2023-01-05'), lastSystem: 'accounts' },
        mail(t('2024-03-01'), t('2024-03-01')),
      ],
      retentionEnd,
      (policy) => (policy === 'send-marketing-email' ? withdrawn : undefined),
    );
    expect(expiry).toEqual({ expiresAt: t('2025-01-05'), policy: 'user-account-access', system: 'accounts' });
    const shortAccount = fieldExpiry(
      [
        { policy: 'order-delivery', lastUseAt: t('2024-01-01'), lastSystem: 'orders' },
        mail(t('2024-03-01'), t('2024-03-01')),
      ],
      retentionEnd,
      (policy) => (policy === 'send-marketing-email' ? withdrawn : undefined),
    );
    // order-delivery ends 2024-04-30; consent kept it until the withdrawal on 2024-05-01
    expect(shortAccount).toEqual({
      expiresAt: t('2024-05-01'),
      policy: 'send-marketing-email',
      system: 'mailer',
    });
  });

  it('never lets a use without consent keep a field past the withdrawal, nor past the use itself', () => {
    const day = 86_400_000;
    const base = t('2024-01-01');
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 400 }),
        fc.option(fc.integer({ min: 0, max: 400 })),
        fc.option(fc.integer({ min: 1, max: 400 })),
        (days, violationDay, grantDay, withdrawAfter) => {
          const window = {
            grantedAt: grantDay === null ? null : base + grantDay * day,
            withdrawnAt: withdrawAfter === null ? null : base + ((grantDay ?? 0) + withdrawAfter) * day,
          };
          const violation = base + violationDay * day;
          fc.pre(!isConsentedUse(window, violation));
          const times = days.map((d) => base + d * day);
          const keeps = (uses: number[]) => {
            const consented = uses.filter((time) => isConsentedUse(window, time));
            const row = mail(Math.max(...uses), consented.length ? Math.max(...consented) : null);
            return usageKeepsUntil(row, P6M, window);
          };
          const before = keeps(times);
          const after = keeps([...times, violation]);
          // the violation adds at most its own bound: the use's time, cut at the withdrawal
          const bound = window.withdrawnAt === null ? violation : Math.min(violation, window.withdrawnAt);
          expect(after).toBeLessThanOrEqual(Math.max(before, bound));
          expect(useKeepsUntil(violation, P6M('', violation), window)).toBe(bound);
        },
      ),
    );
  });

  it('gives the same answer from a usage row as the max over its single uses (ingest == recompute)', () => {
    const day = 86_400_000;
    const base = t('2024-01-01');
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 12 }),
        fc.option(fc.integer({ min: 0, max: 400 })),
        fc.option(fc.integer({ min: 1, max: 400 })),
        (days, grantDay, withdrawAfter) => {
          const window =
            grantDay === null
              ? NO_CONSENT
              : {
                  grantedAt: base + grantDay * day,
                  withdrawnAt: withdrawAfter === null ? null : base + (grantDay + withdrawAfter) * day,
                };
          const times = days.map((d) => base + d * day);
          const perUse = Math.max(...times.map((time) => useKeepsUntil(time, P6M('', time), window)));
          const consented = times.filter((time) => isConsentedUse(window, time));
          const row = mail(Math.max(...times), consented.length ? Math.max(...consented) : null);
          expect(usageKeepsUntil(row, P6M, window)).toBe(perUse);
        },
      ),
    );
  });
});

describe('aggregateBatch with consent', () => {
  it('flags uses without consent, counts them per (subject, policy, system) and keeps the field only until the use', () => {
    const mailEvent = (iso: string) => ({
      id: undefined,
      subject: 's1',
      system: 'mailer',
      policy: 'send-marketing-email',
      fields: ['accounts.email'],
      at: at(iso),
      keepsUntil: retentionEnd('send-marketing-email', at(iso)),
      consentPurpose: 'marketing.email',
    });
    const window = { grantedAt: at('2024-02-01T00:00:00Z'), withdrawnAt: at('2024-04-01T00:00:00Z') };
    const batch = aggregateBatch(
      [
        mailEvent('2024-01-15T00:00:00Z'),
        mailEvent('2024-03-01T00:00:00Z'),
        mailEvent('2024-05-01T00:00:00Z'),
      ],
      () => window,
    );
    expect(batch.usages[0]?.lastConsentedUseAt).toBe(at('2024-03-01T00:00:00Z'));
    expect(batch.violations).toEqual([
      {
        subject: 's1',
        policy: 'send-marketing-email',
        system: 'mailer',
        purpose: 'marketing.email',
        firstAt: at('2024-01-15T00:00:00Z'),
        lastAt: at('2024-05-01T00:00:00Z'),
        count: 2,
      },
    ]);
    // consented 2024-03-01 → cut at the withdrawal 2024-04-01; the violation after it extends nothing
    expect(batch.fields[0]?.expiresAt).toBe(at('2024-04-01T00:00:00Z'));
  });
});
