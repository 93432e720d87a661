import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_CONSENT, type ConsentWindow } from '../../consent/consent.js';
import { aggregateBatch, consentKey, type FoldedEvent } from '../../retention/usage-batch.js';
import { aggregateFold, type FoldTables } from './fold-aggregate.js';

// Few names and times, so that keys and ties repeat (ties decide which system or policy wins).
const name = (prefix: string, count: number) =>
  fc.integer({ min: 0, max: count - 1 }).map((i) => `${prefix}${i}`);
const time = fc.integer({ min: 0, max: 20 }).map((t) => t * 1_000);
const event: fc.Arbitrary<FoldedEvent> = fc.record(
  {
    subject: name('s', 4),
    system: name('y', 3),
    policy: name('p', 3),
    fields: fc.uniqueArray(name('f', 4), { minLength: 1, maxLength: 4 }),
    at: time,
    keepsUntil: time.map((t) => t + 5_000),
    consentPurpose: name('c', 2),
  },
  { requiredKeys: ['subject', 'system', 'policy', 'fields', 'at', 'keepsUntil'] },
);
const window: fc.Arbitrary<ConsentWindow> = fc.record({
  grantedAt: fc.option(time, { nil: null }),
  withdrawnAt: fc.option(time, { nil: null }),
});

/** The columns as rows, in a fixed order, to compare with `aggregateBatch`'s objects. */
function rows<T extends Record<string, unknown[]>>(columns: T): Record<keyof T, unknown>[] {
  const names = Object.keys(columns) as (keyof T)[];
  const length = columns[names[0] as keyof T]?.length ?? 0;
  return Array.from(
    { length },
    (_, i) =>
      Object.fromEntries(names.map((column) => [column, columns[column]?.[i]])) as Record<keyof T, unknown>,
  );
}

const sorted = (values: readonly unknown[]) => values.map((value) => JSON.stringify(value)).sort();

function asBatch(tables: FoldTables) {
  return {
    usages: rows(tables.usages),
    violations: rows(tables.violations),
    fields: rows(tables.fields),
    subjects: rows(tables.subjects),
    links: rows(tables.links),
  };
}

describe('the PostgreSQL fold aggregation', () => {
  it('gives the rows aggregateBatch gives, whatever the events and consent (property)', () => {
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 60 }),
        fc.dictionary(
          fc.constantFrom(
            ...['s0', 's1', 's2', 's3'].flatMap((s) => [consentKey(s, 'c0'), consentKey(s, 'c1')]),
          ),
          window,
        ),
        (events, windows) => {
          const consentOf = (subject: string, purpose: string) =>
            windows[consentKey(subject, purpose)] ?? NO_CONSENT;
          const expected = aggregateBatch(events, consentOf);
          const actual = asBatch(aggregateFold(events, consentOf));
          for (const table of ['usages', 'violations', 'fields', 'subjects'] as const) {
            expect(sorted(actual[table]), table).toEqual(sorted(expected[table]));
          }
          // Links in aggregateBatch's order too: (system, field, policy).
          expect(actual.links.map((link) => JSON.stringify(link))).toEqual(
            expected.links.map((link) => JSON.stringify(link)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives the same rows when the key space is too large for a dense index (a Map instead)', () => {
    // 1,200 subjects × 40 fields × 30 policies: over a million usage keys.
    const events: FoldedEvent[] = Array.from({ length: 1_500 }, (_, i) => ({
      subject: `s${i % 1_200}`,
      system: `y${i % 7}`,
      policy: `p${i % 30}`,
      fields: [`f${i % 40}`, `f${(i * 7 + 3) % 40}`].filter((field, k, all) => all.indexOf(field) === k),
      at: (i % 13) * 1_000,
      keepsUntil: (i % 17) * 1_000,
    }));
    const expected = aggregateBatch(events);
    const actual = asBatch(aggregateFold(events, () => NO_CONSENT));
    for (const table of ['usages', 'fields', 'subjects'] as const) {
      expect(sorted(actual[table]), table).toEqual(sorted(expected[table]));
    }
    expect(actual.links.map((link) => JSON.stringify(link))).toEqual(
      expected.links.map((link) => JSON.stringify(link)),
    );
  });
});
