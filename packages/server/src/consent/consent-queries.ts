import type { Kysely } from 'kysely';
import type { ConsentEventRow, ConsentStateRow, ConsentViolationRow } from './consent-tables.js';
import type { Database } from '../store/schema.js';

const ROWS_PER_STATEMENT = 500;

export interface ViolationFilter {
  readonly subject?: string;
  readonly policy?: string;
  readonly system?: string;
  /** Only violations whose latest use is at or after this (epoch ms). */
  readonly after?: number;
}

export interface ViolationPage {
  readonly limit: number;
  readonly offset?: number;
  /** Keyset position: the last row of the previous page. */
  readonly position?: { lastAt: number; subject: string; policy: string; system: string };
}

/**
 * Consent history, the state derived from it, and violations. Reached as `repository.consent`,
 * inside the repository's transaction. The ingest hot path reads `consent_states` with its own
 * statements (store/sqlite, store/postgres).
 */
export class ConsentQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async insertEvents(rows: readonly ConsentEventRow[]): Promise<void> {
    // A statement holds at most ~32k parameters on SQLite: 17 columns × 500 rows stays well below.
    for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
      await this.db
        .insertInto('consent_events')
        .values(rows.slice(start, start + ROWS_PER_STATEMENT))
        .execute();
    }
  }

  /** The whole history of the subjects, ordered by subject, then as it counts (docs/consent.md). */
  async eventsOfSubjects(subjects: readonly string[]): Promise<ConsentEventRow[]> {
    const events: ConsentEventRow[] = [];
    for (let start = 0; start < subjects.length; start += ROWS_PER_STATEMENT) {
      const rows = await this.db
        .selectFrom('consent_events')
        .selectAll()
        .where('subject', 'in', subjects.slice(start, start + ROWS_PER_STATEMENT))
        .orderBy('subject')
        .orderBy('at')
        .orderBy('recorded_at')
        .orderBy('seq')
        .execute();
      events.push(...rows);
    }
    return events;
  }

  statesOfSubjects(subjects: readonly string[]): Promise<ConsentStateRow[]> {
    if (subjects.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('consent_states')
      .selectAll()
      .where('subject', 'in', [...subjects])
      .orderBy('subject')
      .orderBy('purpose')
      .execute();
  }

  /**
   * Takes the row lock of each (subject, purpose) state before its history is read, creating the
   * row when there is none: two writers of the same consent then follow one another, and ingest
   * (which reads the rows `for share` on PostgreSQL) waits for the writer's commit.
   */
  async lockStates(keys: readonly { subject: string; purpose: string }[], now: number): Promise<void> {
    for (const key of keys) {
      await this.db
        .insertInto('consent_states')
        .values({
          subject: key.subject,
          purpose: key.purpose,
          granted_at: null,
          withdrawn_at: null,
          changed_at: now,
          last_event_id: '',
        })
        .onConflict((oc) => oc.columns(['subject', 'purpose']).doUpdateSet({ changed_at: now }))
        .execute();
    }
  }

  async saveState(row: ConsentStateRow): Promise<void> {
    await this.db
      .updateTable('consent_states')
      .set({
        granted_at: row.granted_at,
        withdrawn_at: row.withdrawn_at,
        changed_at: row.changed_at,
        last_event_id: row.last_event_id,
      })
      .where('subject', '=', row.subject)
      .where('purpose', '=', row.purpose)
      .execute();
  }

  /** Deletes the subject's consent violations (uses without consent); returns how many went. */
  async deleteViolationsOf(subject: string): Promise<number> {
    const result = await this.db
      .deleteFrom('consent_violations')
      .where('subject', '=', subject)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  violations(filter: ViolationFilter, page: ViolationPage): Promise<ConsentViolationRow[]> {
    let query = this.filteredViolations(filter)
      .selectAll()
      .orderBy('last_at', 'desc')
      .orderBy('subject')
      .orderBy('policy')
      .orderBy('system')
      .limit(page.limit)
      .offset(page.offset ?? 0);
    const position = page.position;
    if (position) {
      // Newest first: after (lastAt, subject, policy, system) means an earlier lastAt, or the
      // same lastAt and a later key.
      query = query.where((eb) =>
        eb.or([
          eb('last_at', '<', position.lastAt),
          eb.and([
            eb('last_at', '=', position.lastAt),
            eb(
              eb.refTuple('subject', 'policy', 'system'),
              '>',
              eb.tuple(position.subject, position.policy, position.system),
            ),
          ]),
        ]),
      );
    }
    return query.execute();
  }

  async countViolations(filter: ViolationFilter): Promise<number> {
    const row = await this.filteredViolations(filter)
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  private filteredViolations(filter: ViolationFilter) {
    let query = this.db.selectFrom('consent_violations');
    if (filter.subject !== undefined) query = query.where('subject', '=', filter.subject);
    if (filter.policy !== undefined) query = query.where('policy', '=', filter.policy);
    if (filter.system !== undefined) query = query.where('system', '=', filter.system);
    if (filter.after !== undefined) query = query.where('last_at', '>=', filter.after);
    return query;
  }
}
