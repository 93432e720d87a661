import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConsentWindow } from '../../consent/consent.js';
import { addDuration, parseDuration } from '../../lib/duration.js';
import { BY_LAST_USE, fieldExpiry, usageKeepsUntil, WAITING, type SubjectAging } from '../expiry.js';
import { parseAging, type Aging } from './aging.js';

const DAY = 86_400_000;
const P1M = parseDuration('P1M')!;
const retentionEnd = (_policy: string, at: number) => addDuration(at, P1M);
const at = Date.parse;

const strategies: fc.Arbitrary<Aging> = fc.oneof(
  fc.constant<Aging>({ kind: 'last-use' }),
  fc.constant<Aging>({ kind: 'first-use' }),
  fc.constant<Aging>({ kind: 'event', event: 'closed' }),
  fc.integer({ min: 0, max: 800 }).map<Aging>((day) => ({ kind: 'until', at: day * DAY })),
);
/** A usage: first use ≤ last use, days since the epoch. */
const usages = fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 400 })).map(([a, b]) => ({
  policy: 'p',
  firstUseAt: Math.min(a, b) * DAY,
  lastUseAt: Math.max(a, b) * DAY,
  lastSystem: 's',
}));
const agingWith = (strategy: Aging, eventAt?: number): SubjectAging => ({
  agingOf: () => strategy,
  eventAt: (name) => (name === 'closed' ? eventAt : undefined),
});

describe('parseAging', () => {
  it('reads the four strategies and refuses anything else', () => {
    expect(parseAging('last-use')).toEqual({ kind: 'last-use' });
    expect(parseAging('first-use')).toEqual({ kind: 'first-use' });
    expect(parseAging('event:account-closed')).toEqual({ kind: 'event', event: 'account-closed' });
    expect(parseAging('until:2028-02-29')).toEqual({ kind: 'until', at: at('2028-02-29T00:00:00Z') });
    for (const bad of [
      '',
      'first',
      'event:',
      'event:Closed',
      'until:2027-02-29',
      'until:2027-13-01',
      'until:27-1-1',
    ])
      expect(parseAging(bad), bad).toBeUndefined();
  });
});

describe('the aging rule (docs/retention.md "Aging")', () => {
  it('counts P1M from the anchor each strategy names, calendar-exact', () => {
    const use = {
      policy: 'p',
      firstUseAt: at('2024-01-31T00:00:00Z'),
      lastUseAt: at('2024-03-31T00:00:00Z'),
      lastSystem: 's',
    };
    const keeps = (aging: SubjectAging) =>
      new Date(usageKeepsUntil(use, retentionEnd, undefined, aging)).toISOString();
    expect(keeps(BY_LAST_USE)).toBe('2024-04-30T00:00:00.000Z');
    expect(keeps(agingWith({ kind: 'first-use' }))).toBe('2024-02-29T00:00:00.000Z');
    expect(keeps(agingWith({ kind: 'event', event: 'closed' }))).toBe('9999-12-31T00:00:00.000Z');
    expect(keeps(agingWith({ kind: 'event', event: 'closed' }, at('2025-01-31T00:00:00Z')))).toBe(
      '2025-02-28T00:00:00.000Z',
    );
    expect(keeps(agingWith({ kind: 'until', at: at('2027-03-01T00:00:00Z') }))).toBe(
      '2027-03-01T00:00:00.000Z',
    );
  });

  it('never keeps a field longer from the first use than from the last', () => {
    fc.assert(
      fc.property(usages, (use) => {
        const first = usageKeepsUntil(use, retentionEnd, undefined, agingWith({ kind: 'first-use' }));
        expect(first).toBeLessThanOrEqual(usageKeepsUntil(use, retentionEnd, undefined, BY_LAST_USE));
      }),
    );
  });

  it('keeps a field waiting until its event, and the event never keeps it longer than waiting did', () => {
    fc.assert(
      fc.property(usages, fc.integer({ min: 0, max: 400 }), (use, day) => {
        const event: Aging = { kind: 'event', event: 'closed' };
        expect(usageKeepsUntil(use, retentionEnd, undefined, agingWith(event))).toBe(WAITING);
        const arrived = usageKeepsUntil(use, retentionEnd, undefined, agingWith(event, day * DAY));
        expect(arrived).toBe(retentionEnd('p', day * DAY));
        expect(arrived).toBeLessThan(WAITING);
      }),
    );
  });

  it('keeps a field to the fixed day whatever its uses', () => {
    fc.assert(
      fc.property(usages, usages, fc.integer({ min: 0, max: 800 }), (a, b, day) => {
        const until = agingWith({ kind: 'until', at: day * DAY });
        expect(usageKeepsUntil(a, retentionEnd, undefined, until)).toBe(day * DAY);
        expect(usageKeepsUntil(b, retentionEnd, undefined, until)).toBe(day * DAY);
      }),
    );
  });

  it('never keeps a field past a withdrawal of consent, whatever the strategy', () => {
    fc.assert(
      fc.property(
        usages,
        strategies,
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 400 }),
        fc.option(fc.integer({ min: 0, max: 400 })),
        fc.option(fc.integer({ min: 0, max: 400 })),
        (use, strategy, granted, withdrawnAfter, consentedDay, eventDay) => {
          const window: ConsentWindow = {
            grantedAt: granted * DAY,
            withdrawnAt: (granted + withdrawnAfter) * DAY,
          };
          const consented = consentedDay === null ? null : Math.min(consentedDay * DAY, use.lastUseAt);
          const keeps = usageKeepsUntil(
            { ...use, lastConsentedUseAt: consented },
            retentionEnd,
            window,
            agingWith(strategy, eventDay === null ? undefined : eventDay * DAY),
          );
          expect(keeps).toBeLessThanOrEqual(window.withdrawnAt as number);
        },
      ),
    );
  });

  it('decides a field by the policy whose strategy keeps it longest', () => {
    const aging: SubjectAging = {
      agingOf: (policy) => (policy === 'closure' ? { kind: 'event', event: 'closed' } : { kind: 'last-use' }),
      eventAt: () => undefined,
    };
    const expiry = fieldExpiry(
      [
        { policy: 'account', lastUseAt: at('2024-01-31T00:00:00Z'), lastSystem: 'accounts' },
        { policy: 'closure', lastUseAt: at('2024-01-01T00:00:00Z'), lastSystem: 'crm' },
      ],
      retentionEnd,
      () => undefined,
      aging,
    );
    expect(expiry).toEqual({ expiresAt: WAITING, policy: 'closure', system: 'crm' });
  });
});
