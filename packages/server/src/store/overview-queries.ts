import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

const DAY_MS = 86_400_000;

/** Counts for the dashboard's overview, each one aggregate query (no rows leave the database). */
export class OverviewQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async count(table: 'subject_expiries' | 'fields' | 'systems'): Promise<number> {
    const row = await this.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Requests in `statuses`, and of those the ones due before `dueBefore`. */
  async requestCounts(
    statuses: readonly string[],
    dueBefore: number,
  ): Promise<{ open: number; overdue: number }> {
    const row = await this.db
      .selectFrom('rights_requests')
      .where('status', 'in', [...statuses])
      .select((eb) => [
        eb.fn.countAll<number | string>().as('open'),
        eb.fn
          .sum<number | string | null>(eb.case().when('due_at', '<', dueBefore).then(1).else(0).end())
          .as('overdue'),
      ])
      .executeTakeFirstOrThrow();
    return { open: Number(row.open), overdue: Number(row.overdue ?? 0) };
  }

  async reappearanceCount(): Promise<number> {
    const row = await this.db
      .selectFrom('field_expiries')
      .where('reappeared_at', 'is not', null)
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Subjects whose expiry falls in [from, to), per UTC day (epoch day number); days without any left out. */
  async subjectExpiriesPerDay(from: number, to: number): Promise<Map<number, number>> {
    // Integer division in both backends (bigint in PostgreSQL, integer in SQLite): the UTC day.
    const day = sql<number | string>`expires_at / ${sql.lit(DAY_MS)}`;
    const rows = await this.db
      .selectFrom('subject_expiries')
      .where('expires_at', '>=', from)
      .where('expires_at', '<', to)
      .select([day.as('day'), (eb) => eb.fn.countAll<number | string>().as('count')])
      .groupBy(day)
      .execute();
    return new Map(rows.map((row) => [Number(row.day), Number(row.count)]));
  }
}
