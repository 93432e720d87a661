import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { SubjectEventRow } from '../retention-tables.js';

/** The subjects' events (`subject_events`), which `event:` policies count from. */
export class SubjectEventQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Stores an event unless it is known (same subject, name and time, or same id): true when it
   * was new. A retry of an id with another content is a duplicate, as for usage events.
   */
  async insert(row: SubjectEventRow): Promise<boolean> {
    const result = await this.db
      .insertInto('subject_events')
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Removes the subject's events of `name` (only the one at `at`, when given): how many went. */
  async delete(subject: string, name: string, at?: number): Promise<number> {
    let query = this.db.deleteFrom('subject_events').where('subject', '=', subject).where('name', '=', name);
    if (at !== undefined) query = query.where('at', '=', at);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Per subject, the first occurrence of each event name. */
  async firstOccurrences(subjects: readonly string[]): Promise<Map<string, Map<string, number>>> {
    const bySubject = new Map<string, Map<string, number>>();
    if (subjects.length === 0) return bySubject;
    const rows = await this.db
      .selectFrom('subject_events')
      .select(['subject', 'name', (eb) => eb.fn.min<number>('at').as('at')])
      .where('subject', 'in', subjects)
      .groupBy(['subject', 'name'])
      .execute();
    for (const row of rows) {
      const names = bySubject.get(row.subject) ?? new Map<string, number>();
      names.set(row.name, Number(row.at));
      bySubject.set(row.subject, names);
    }
    return bySubject;
  }
}
