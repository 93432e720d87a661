import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJournalRow, encodeJournalRow, type JournalEvent } from './journal-codec.js';

const name = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' });
const event: fc.Arbitrary<JournalEvent> = fc.record(
  {
    subject: name,
    system: name,
    policy: name,
    fields: fc.uniqueArray(name, { minLength: 1, maxLength: 5 }),
    at: fc.integer({ min: -8.64e15, max: 8.64e15 }),
    keepsUntil: fc.integer({ min: -8.64e15, max: 8.64e15 }),
    consentPurpose: name,
  },
  { requiredKeys: ['subject', 'system', 'policy', 'fields', 'at', 'keepsUntil'] },
);

describe('usage journal rows', () => {
  it('decode to the events they encode, names shared or not', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        expect(decodeJournalRow(encodeJournalRow(events))).toEqual(events);
      }),
    );
  });

  it('append to what was decoded before', () => {
    const a: JournalEvent = {
      subject: 'u-1',
      system: 's',
      policy: 'p',
      fields: ['a.b'],
      at: 1,
      keepsUntil: 2,
    };
    const b = { ...a, subject: 'u-\u00002', consentPurpose: 'marketing' };
    const into = decodeJournalRow(encodeJournalRow([a]));
    expect(decodeJournalRow(encodeJournalRow([b]), into)).toEqual([a, b]);
  });

  it('refuse a row of an unknown version', () => {
    const row = encodeJournalRow([]);
    row[0] = 9;
    expect(() => decodeJournalRow(row)).toThrow(/version 9/);
  });
});
