import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { IngestResult, SubjectRetention } from '@lethe/api';
import BetterSqlite3 from 'better-sqlite3';
import { sendJson } from './http-client.js';
import type { Expected, ExpectedField } from './workload.js';

/** Row counts that follow from the workload, whatever the order the batches arrived in. */
export interface StoredCounts {
  events: number;
  fieldUses: number;
  subjectFields: number;
  subjects: number;
}

/**
 * A read-only connection to a SQLite data dir for the counts: the event ids are in the usage
 * journal's file, attached so that the same SQL finds them.
 */
export function openSqliteCounts(dataDir: string): BetterSqlite3.Database {
  const connection = new BetterSqlite3(join(dataDir, 'lethe.db'), { readonly: true });
  const journal = join(dataDir, 'lethe.journal.db');
  if (existsSync(journal)) connection.prepare('attach database ? as journal').run(journal);
  return connection;
}

/** The same SQL on both backends; counts come back as strings from PostgreSQL. */
export const STORED_COUNTS_SQL = `select
  (select count(*) from event_ids) as events,
  (select coalesce(sum(use_count), 0) from usages) as field_uses,
  (select count(*) from field_expiries) as subject_fields,
  (select count(*) from subject_expiries) as subjects`;

/** Consent violations recorded: rows per (subject, policy, system) and the uses they count. */
export const VIOLATION_COUNTS_SQL = `select count(*) as violation_rows, coalesce(sum(use_count), 0) as violation_uses
  from consent_violations`;

export function storedCounts(row: Record<string, unknown> | undefined): StoredCounts {
  return {
    events: Number(row?.['events']),
    fieldUses: Number(row?.['field_uses']),
    subjectFields: Number(row?.['subject_fields']),
    subjects: Number(row?.['subjects']),
  };
}

/** Every answer must account for all its events as accepted: none rejected, none duplicate. */
export function checkAnswers(answers: readonly unknown[], expected: Expected): void {
  let accepted = 0;
  for (const answer of answers as IngestResult[]) {
    if (answer.duplicates !== 0 || answer.rejected.length !== 0) {
      throw new Error(
        `a batch had ${answer.duplicates} duplicates and ${answer.rejected.length} rejections: ${JSON.stringify(answer.rejected.slice(0, 3))}`,
      );
    }
    accepted += answer.accepted;
  }
  if (accepted !== expected.events) throw new Error(`accepted ${accepted} events, sent ${expected.events}`);
}

export function checkCounts(actual: StoredCounts, expected: Expected): void {
  const wanted: StoredCounts = {
    events: expected.events,
    fieldUses: expected.fieldUses,
    subjectFields: expected.subjectFields,
    subjects: expected.subjects,
  };
  for (const key of Object.keys(wanted) as (keyof StoredCounts)[]) {
    if (actual[key] !== wanted[key]) {
      throw new Error(`store holds ${key}=${actual[key]}, the workload implies ${wanted[key]}`);
    }
  }
}

/**
 * Asks Lethe about the sample subjects and compares every field's expiry and per-policy use
 * count with what the generator computed on its own. `expiryOf` picks the expected expiry: by
 * retention unless every use lacked consent.
 */
export async function checkSampleSubjects(
  url: string,
  token: string,
  expected: Expected,
  expiryOf: (field: ExpectedField) => number = (field) => field.expiresAt,
): Promise<number> {
  for (const [subject, fields] of expected.samples) {
    const held = await sendJson<SubjectRetention>('GET', `${url}/v1/subjects/${subject}`, token);
    if (held.fields.length !== fields.size) {
      throw new Error(`${subject}: Lethe holds ${held.fields.length} fields, expected ${fields.size}`);
    }
    for (const field of held.fields) {
      const wanted = fields.get(field.field);
      if (!wanted) throw new Error(`${subject}: unexpected field ${field.field}`);
      if (Date.parse(field.expiresAt) !== expiryOf(wanted)) {
        throw new Error(
          `${subject} ${field.field}: expires ${field.expiresAt}, expected ${new Date(expiryOf(wanted)).toISOString()}`,
        );
      }
      for (const use of field.uses) {
        if (wanted.counts.get(use.policy) !== use.count) {
          throw new Error(
            `${subject} ${field.field} ${use.policy}: ${use.count} uses, expected ${wanted.counts.get(use.policy)}`,
          );
        }
      }
      if (field.uses.length !== wanted.counts.size)
        throw new Error(`${subject} ${field.field}: wrong set of policies`);
    }
  }
  return expected.samples.size;
}
