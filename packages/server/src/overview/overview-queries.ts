import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

const DAY_MS = 86_400_000;

/** Counts for the dashboard's overview, each one aggregate query (no rows leave the database). */
export class OverviewQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async count(table: 'subject_expiries' | 'fields' | 'systems' | 'consent_violations'): Promise<number> {
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

  /**
   * Expiries in [from, to) per UTC day (epoch day number), days without any left out: of subject
   * fields not erased, or used again since (`field_expiries`), or of whole subjects (`subject_expiries`).
   */
  async expiriesPerDay(
    table: 'field_expiries' | 'subject_expiries',
    from: number,
    to: number,
  ): Promise<Map<number, number>> {
    // Integer division in both backends (bigint in PostgreSQL, integer in SQLite): the UTC day.
    const day = sql<number | string>`expires_at / ${sql.lit(DAY_MS)}`;
    let query = this.db
      .selectFrom(table)
      .where('expires_at', '>=', from)
      .where('expires_at', '<', to)
      .select([day.as('day'), (eb) => eb.fn.countAll<number | string>().as('count')])
      .groupBy(day);
    // A field used again after its erasure is held again: it counts until it expires.
    if (table === 'field_expiries')
      query = query.where((eb) =>
        eb.or([eb(sql.ref('erased_at'), 'is', null), eb(sql.ref('reappeared_at'), 'is not', null)]),
      );
    const rows = await query.execute();
    return new Map(rows.map((row) => [Number(row.day), Number(row.count)]));
  }
}
