import { describe, expect, it } from 'vitest';
import { holdCovers, holdOf, holdScope } from './hold-rules.js';
import type { HoldRow } from './hold-tables.js';

const row = (
  name: string,
  scope: Partial<Record<'subjects' | 'systems' | 'categories' | 'policies', string[]>>,
) =>
  ({
    name,
    reason: `case ${name}`,
    subjects: scope.subjects ? JSON.stringify(scope.subjects) : null,
    systems: scope.systems ? JSON.stringify(scope.systems) : null,
    categories: scope.categories ? JSON.stringify(scope.categories) : null,
    policies: scope.policies ? JSON.stringify(scope.policies) : null,
    review_at: null,
    created_at: Date.parse('2026-01-02T00:00:00Z'),
    created_by: 'dpo-1',
    updated_at: Date.parse('2026-01-02T00:00:00Z'),
    updated_by: 'dpo-1',
  }) satisfies HoldRow;

const email = { subject: 'u-1', system: 'accounts', categories: ['user.contact.email'], policy: 'account' };

describe('holdCovers', () => {
  it('covers everything when the hold has no lists', () => {
    expect(holdCovers(holdScope(row('freeze', {})), email)).toBe(true);
  });

  it('needs every list it has to match (subjects AND systems AND categories AND policies)', () => {
    const both = holdScope(row('h', { subjects: ['u-1'], systems: ['accounts'] }));
    expect(holdCovers(both, email)).toBe(true);
    expect(holdCovers(both, { ...email, subject: 'u-2' })).toBe(false);
    expect(holdCovers(both, { ...email, system: 'orders' })).toBe(false);
    const policy = holdScope(row('p', { policies: ['orders'] }));
    expect(holdCovers(policy, email)).toBe(false);
    expect(holdCovers(policy, { ...email, policy: 'orders' })).toBe(true);
  });

  it('matches categories at or below the hold key, never above or beside it', () => {
    expect(holdCovers(holdScope(row('c', { categories: ['user.contact'] })), email)).toBe(true);
    expect(holdCovers(holdScope(row('c', { categories: ['user.contact.email'] })), email)).toBe(true);
    const narrower = holdScope(row('c', { categories: ['user.contact.email.work'] }));
    expect(holdCovers(narrower, email)).toBe(false);
    expect(holdCovers(holdScope(row('c', { categories: ['user.contact.e'] })), email)).toBe(false);
    expect(holdCovers(holdScope(row('c', { categories: ['user'] })), { ...email, categories: [] })).toBe(
      false,
    );
  });
});

describe('holdOf', () => {
  it('names the first covering hold and what it shows: reason, who, since when', () => {
    const holds = [row('a-case', { subjects: ['u-9'] }), row('b-case', { systems: ['accounts'] })].map(
      holdScope,
    );
    expect(holdOf(holds, email)?.mark).toEqual({
      name: 'b-case',
      reason: 'case b-case',
      by: 'dpo-1',
      since: '2026-01-02T00:00:00.000Z',
    });
    expect(holdOf(holds, { ...email, system: 'orders' })).toBeUndefined();
  });
});
