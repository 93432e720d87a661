import { describe, expect, it } from 'vitest';
import { addDuration, parseDuration } from './duration.js';
import { fieldExpiry, subjectExpiry } from './expiry.js';
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
