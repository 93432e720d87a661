import { describe, expect, it } from 'vitest';
import type { HoldScope } from '../retention/holds/hold-rules.js';
import { holdOnTarget, type HeldTarget } from './legal-hold-check.js';

const mark = { reason: 'claim', by: 'dpo', since: '2026-01-01T00:00:00.000Z' };
const hold = (name: string, scope: Omit<HoldScope, 'name' | 'mark'>): HoldScope => ({
  name,
  mark: { ...mark, name },
  ...scope,
});
const CRM: HeldTarget = {
  system: 'crm',
  data: [
    { categories: ['user.contact.email'], policy: 'billing' },
    { categories: ['user.name'], policy: '' },
  ],
};
const DB_WITHOUT_SYSTEM: HeldTarget = { data: [{ categories: ['user.contact.email'], policy: '' }] };

describe('holdOnTarget: which hold keeps an erasure task from running', () => {
  it('holds every target of a subject a hold without lists names', () => {
    const holds = [hold('freeze', { subjects: new Set(['u-1']) })];
    expect(holdOnTarget(holds, 'u-1', CRM)?.name).toBe('freeze');
    expect(holdOnTarget(holds, 'u-1', DB_WITHOUT_SYSTEM)?.name).toBe('freeze');
    expect(holdOnTarget(holds, 'u-2', CRM)).toBeUndefined();
  });

  it('needs the subject id to match a subject-listed hold', () => {
    expect(holdOnTarget([hold('freeze', { subjects: new Set(['u-1']) })], undefined, CRM)).toBeUndefined();
    // A hold over everyone holds a request by e-mail alone too.
    expect(holdOnTarget([hold('all', {})], undefined, CRM)?.name).toBe('all');
  });

  it('holds a system-limited hold only on that system; a database without a system never', () => {
    const holds = [hold('crm-only', { systems: new Set(['crm']) })];
    expect(holdOnTarget(holds, 'u-1', CRM)?.name).toBe('crm-only');
    expect(holdOnTarget(holds, 'u-1', { ...CRM, system: 'mail' })).toBeUndefined();
    expect(holdOnTarget(holds, 'u-1', DB_WITHOUT_SYSTEM)).toBeUndefined();
  });

  it('holds by category or policy when the target holds data under one of them', () => {
    expect(holdOnTarget([hold('names', { categories: ['user.name'] })], 'u-1', CRM)?.name).toBe('names');
    expect(holdOnTarget([hold('contact', { categories: ['user.contact'] })], 'u-1', CRM)?.name).toBe(
      'contact',
    );
    expect(holdOnTarget([hold('health', { categories: ['user.health'] })], 'u-1', CRM)).toBeUndefined();
    expect(holdOnTarget([hold('bills', { policies: new Set(['billing']) })], 'u-1', CRM)?.name).toBe('bills');
    expect(holdOnTarget([hold('ads', { policies: new Set(['ads']) })], 'u-1', CRM)).toBeUndefined();
  });

  it('names the first hold that covers, in the order given (by name)', () => {
    const holds = [hold('a-health', { categories: ['user.health'] }), hold('b-all', {}), hold('c-all', {})];
    expect(holdOnTarget(holds, 'u-1', CRM)?.name).toBe('b-all');
  });
});
