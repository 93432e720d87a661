import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConsentWindow } from '../../consent/consent.js';
import { aggregateBatch, type AggregatedBatch } from '../usage-batch.js';
import { aggregateInterned, consentPairs } from './journal-aggregate.js';
import { encodeJournalRow, InternedJournal, type JournalEvent } from './journal-codec.js';

// Few names and times, so that keys repeat and ties (equal times, equal expiries) happen.
const pick = (prefix: string, n: number) => fc.integer({ min: 0, max: n - 1 }).map((i) => `${prefix}${i}`);
const time = fc.integer({ min: 0, max: 6 }).map((t) => t * 1000);
const event: fc.Arbitrary<JournalEvent> = fc.record(
  {
    subject: pick('s', 4),
    system: pick('sys', 2),
    policy: pick('p', 3),
    fields: fc.uniqueArray(pick('f', 3), { minLength: 1, maxLength: 3 }),
    at: time,
    keepsUntil: time.map((t) => t + 2000),
    consentPurpose: pick('c', 2),
  },
  { requiredKeys: ['subject', 'system', 'policy', 'fields', 'at', 'keepsUntil'] },
);
const window: fc.Arbitrary<ConsentWindow> = fc.record({
  grantedAt: fc.option(time, { nil: null }),
  withdrawnAt: fc.option(time, { nil: null }),
});

/** Both aggregations' rows in one order: the interned one does not sort. */
function sorted(batch: AggregatedBatch) {
  const order = <T>(rows: T[]) => rows.map((row) => JSON.stringify(row)).sort();
  return {
    usages: order(batch.usages),
    violations: order(batch.violations),
    fields: order(batch.fields),
    subjects: order(batch.subjects),
    links: order(batch.links),
  };
}

describe('interned fold aggregation', () => {
  it('makes the row changes of aggregateBatch, rows split as journal rows are, consent included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(event, { maxLength: 12 }), { maxLength: 4 }),
        fc.dictionary(fc.constantFrom('s0|c0', 's1|c1', 's2|c0', 's3|c1'), window),
        (rows, windows) => {
          const journal = new InternedJournal();
          for (const row of rows) journal.decode(encodeJournalRow(row));
          const byName = (subject: string, purpose: string) =>
            windows[`${subject}|${purpose}`] ?? { grantedAt: null, withdrawnAt: null };
          const looked = new Set(consentPairs(journal).map((p) => `${p.subject}|${p.purpose}`));
          const interned = aggregateInterned(journal, (subject, purpose) => {
            expect(looked.has(`${subject}|${purpose}`)).toBe(true);
            return byName(journal.subjects[subject] as string, journal.names[purpose] as string);
          });
          expect(sorted(interned)).toEqual(sorted(aggregateBatch(rows.flat(), byName)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
