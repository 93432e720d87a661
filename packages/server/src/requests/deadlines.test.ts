import { JURISDICTIONS } from '@lethe/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addBusinessDays,
  daysLeft,
  DeadlineError,
  DEFAULT_JURISDICTION_RULES,
  dueAt,
  extendedDueAt,
  isOverdue,
  receiptConfirmationDueAt,
  type JurisdictionRule,
} from './deadlines.js';
import { DAY_MS } from '../lib/time.js';

const at = (iso: string) => Date.parse(iso);
const iso = (epochMs: number | undefined) =>
  epochMs === undefined ? undefined : new Date(epochMs).toISOString();
const { gdpr, ccpa, pipeda, lgpd, app } = DEFAULT_JURISDICTION_RULES;

describe('DEFAULT_JURISDICTION_RULES', () => {
  it('has a rule for every jurisdiction', () => {
    expect(Object.keys(DEFAULT_JURISDICTION_RULES).sort()).toEqual([...JURISDICTIONS].sort());
  });
});

describe('dueAt', () => {
  it.each([
    ['gdpr', gdpr, '2026-03-10T09:30:00Z', '2026-04-10T09:30:00.000Z'],
    ['ccpa', ccpa, '2026-03-10T09:30:00Z', '2026-04-24T09:30:00.000Z'],
    ['pipeda', pipeda, '2026-03-10T09:30:00Z', '2026-04-09T09:30:00.000Z'],
    ['lgpd', lgpd, '2026-03-10T09:30:00Z', '2026-03-25T09:30:00.000Z'],
    ['app', app, '2026-03-10T09:30:00Z', '2026-04-09T09:30:00.000Z'],
  ])('%s: received %s, due %s', (_name, rule, received, due) => {
    expect(iso(dueAt(at(received), rule))).toBe(due);
  });

  it('gives GDPR one calendar month, clamped to the end of a shorter month', () => {
    expect(iso(dueAt(at('2026-01-31T12:00:00Z'), gdpr))).toBe('2026-02-28T12:00:00.000Z');
    expect(iso(dueAt(at('2026-03-31T00:00:00Z'), gdpr))).toBe('2026-04-30T00:00:00.000Z');
    expect(iso(dueAt(at('2026-12-15T00:00:00Z'), gdpr))).toBe('2027-01-15T00:00:00.000Z');
  });

  it('knows leap years', () => {
    expect(iso(dueAt(at('2028-01-31T08:00:00Z'), gdpr))).toBe('2028-02-29T08:00:00.000Z');
    expect(iso(dueAt(at('2028-01-30T08:00:00Z'), gdpr))).toBe('2028-02-29T08:00:00.000Z');
    // 45 days across a leap February: 2028-02-01 + 45 days = 2028-03-17 (29 days in February).
    expect(iso(dueAt(at('2028-02-01T00:00:00Z'), ccpa))).toBe('2028-03-17T00:00:00.000Z');
    expect(iso(dueAt(at('2027-02-01T00:00:00Z'), ccpa))).toBe('2027-03-18T00:00:00.000Z');
  });

  it('uses a configured rule', () => {
    expect(iso(dueAt(at('2026-01-01T00:00:00Z'), { respondWithin: 'P2W' }))).toBe('2026-01-15T00:00:00.000Z');
  });

  it('refuses a rule whose period is not a duration', () => {
    expect(() => dueAt(0, { respondWithin: '30 days' })).toThrow(RangeError);
  });
});

describe('extendedDueAt', () => {
  it('runs the extension on from the first due date', () => {
    expect(iso(extendedDueAt(at('2026-03-10T09:30:00Z'), gdpr))).toBe('2026-06-10T09:30:00.000Z');
    expect(iso(extendedDueAt(at('2026-03-10T09:30:00Z'), ccpa))).toBe('2026-06-08T09:30:00.000Z');
    expect(iso(extendedDueAt(at('2026-03-10T09:30:00Z'), pipeda))).toBe('2026-05-09T09:30:00.000Z');
  });

  it('takes the earlier reading at a month end (31 Jan → 28 Feb → 28 Apr, not 30 Apr)', () => {
    expect(iso(extendedDueAt(at('2026-01-31T00:00:00Z'), gdpr))).toBe('2026-04-28T00:00:00.000Z');
  });

  it.each([
    ['lgpd', lgpd],
    ['app', app],
  ])('refuses for %s, which has no extension', (_name, rule) => {
    expect(() => extendedDueAt(0, rule)).toThrow(DeadlineError);
  });

  it('is granted once', () => {
    expect(() => extendedDueAt(0, gdpr, { alreadyExtended: true })).toThrow(DeadlineError);
    expect(extendedDueAt(0, gdpr, { alreadyExtended: false })).toBe(extendedDueAt(0, gdpr));
  });

  it('carries the registry code', () => {
    expect(() => extendedDueAt(0, lgpd)).toThrow(expect.objectContaining({ code: 'NO_EXTENSION' }));
  });
});

describe('addBusinessDays', () => {
  // 2026-03-02 is a Monday.
  it.each([
    ['Mon', '2026-03-02T10:00:00Z', 1, '2026-03-03T10:00:00.000Z'],
    ['Mon', '2026-03-02T10:00:00Z', 4, '2026-03-06T10:00:00.000Z'],
    ['Mon', '2026-03-02T10:00:00Z', 5, '2026-03-09T10:00:00.000Z'],
    ['Mon', '2026-03-02T10:00:00Z', 10, '2026-03-16T10:00:00.000Z'],
    ['Thu', '2026-03-05T10:00:00Z', 2, '2026-03-09T10:00:00.000Z'],
    ['Fri', '2026-03-06T23:59:00Z', 1, '2026-03-09T23:59:00.000Z'],
    ['Fri', '2026-03-06T10:00:00Z', 10, '2026-03-20T10:00:00.000Z'],
    ['Sat', '2026-03-07T10:00:00Z', 1, '2026-03-09T10:00:00.000Z'],
    ['Sat', '2026-03-07T10:00:00Z', 5, '2026-03-13T10:00:00.000Z'],
    ['Sun', '2026-03-08T10:00:00Z', 10, '2026-03-20T10:00:00.000Z'],
    ['Sun', '2026-03-08T10:00:00Z', 0, '2026-03-08T10:00:00.000Z'],
  ])('%s %s + %i business days = %s', (_day, from, days, expected) => {
    expect(iso(addBusinessDays(at(from), days))).toBe(expected);
  });

  it('agrees with counting one day at a time', () => {
    const naive = (from: number, days: number) => {
      let when = from;
      for (let left = days; left > 0;) {
        when += DAY_MS;
        const weekday = new Date(when).getUTCDay();
        if (weekday !== 0 && weekday !== 6) left -= 1;
      }
      return when;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2100-01-01T00:00:00Z') }),
        fc.integer({ min: 0, max: 60 }),
        (from, days) => {
          expect(addBusinessDays(from, days)).toBe(naive(from, days));
        },
      ),
    );
  });

  it.each([-1, 1.5, Number.NaN])('refuses %s days', (days) => {
    expect(() => addBusinessDays(0, days)).toThrow(RangeError);
  });
});

describe('receiptConfirmationDueAt', () => {
  it('is 10 business days for CCPA, over two weekends', () => {
    // Friday 2026-03-06 → Friday 2026-03-20.
    expect(iso(receiptConfirmationDueAt(at('2026-03-06T15:00:00Z'), ccpa))).toBe('2026-03-20T15:00:00.000Z');
  });

  it.each([
    ['gdpr', gdpr],
    ['pipeda', pipeda],
    ['lgpd', lgpd],
    ['app', app],
  ])('is undefined for %s', (_name, rule: JurisdictionRule) => {
    expect(receiptConfirmationDueAt(0, rule)).toBeUndefined();
  });
});

describe('daysLeft and isOverdue', () => {
  const due = at('2026-04-10T12:00:00Z');

  it.each([
    ['2026-04-01T12:00:00Z', 9, false],
    ['2026-04-09T12:00:01Z', 0, false],
    ['2026-04-10T11:00:00Z', 0, false],
    ['2026-04-10T12:00:00Z', 0, false],
    ['2026-04-10T12:00:01Z', -1, true],
    ['2026-04-12T12:00:00Z', -2, true],
    ['2026-04-12T13:00:00Z', -3, true],
  ])('at %s: %i days left, overdue %s', (now, left, overdue) => {
    expect(daysLeft(due, at(now))).toBe(left);
    expect(isOverdue(due, at(now))).toBe(overdue);
  });

  it('is negative exactly when overdue', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 0, max: 4e12 }), (dueAtMs, now) => {
        expect(daysLeft(dueAtMs, now) < 0).toBe(isOverdue(dueAtMs, now));
      }),
    );
  });
});
