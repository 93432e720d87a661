import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { HoldColumns } from '../retention/holds/hold-rules.js';
import type { Database } from '../store/schema.js';

const DAY_MS = 86_400_000;

/** Which field expiries a token may count: one system's (a service), some fields (categories). */
export interface ExpiryScope {
  readonly system?: string;
  readonly fields?: readonly string[];
}

/** A system's field expiries past their expiry, as `pastExpiry` counts them. */
export interface PastExpiryRow {
  readonly system: string;
  readonly fields: number;
  readonly subjects: number;
  readonly oldest: number | undefined;
  readonly held: number;
}

/**
 * Still to be deleted: never erased, or used again after the erasure (a field used again after its
 * erasure is held again and counts until it expires). Unqualified: no joined table has the columns.
 */
const notErased = <DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>) =>
  eb.or([eb(sql.ref('erased_at'), 'is', null), eb(sql.ref('reappeared_at'), 'is not', null)]);

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

  /** Requests in `statuses` (by `rights_requests_status`). */
  async requestCount(statuses: readonly string[]): Promise<number> {
    const row = await this.db
      .selectFrom('rights_requests')
      .where('status', 'in', [...statuses])
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
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
   * fields not erased (`field_expiries`), or of whole subjects (`subject_expiries`).
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
    if (table === 'field_expiries') query = query.where(notErased);
    const rows = await query.execute();
    return new Map(rows.map((row) => [Number(row.day), Number(row.count)]));
  }

  /**
   * Field expiries in [from, to) of a scope per UTC day: how many, and of how many people. For a
   * limited token, whose subject expiries would span fields it may not see.
   */
  async scopedExpiriesPerDay(
    scope: ExpiryScope,
    from: number,
    to: number,
  ): Promise<Map<number, { fields: number; subjects: number }>> {
    const day = sql<number | string>`fe.expires_at / ${sql.lit(DAY_MS)}`;
    const rows = await this.scoped(scope)
      .where('fe.expires_at', '>=', from)
      .where('fe.expires_at', '<', to)
      .select((eb) => [
        day.as('day'),
        eb.fn.countAll<number | string>().as('fields'),
        eb.fn.count<number | string>('fe.subject').distinct().as('subjects'),
      ])
      .groupBy(day)
      .execute();
    return new Map(
      rows.map((row) => [Number(row.day), { fields: Number(row.fields), subjects: Number(row.subjects) }]),
    );
  }

  /**
   * Per owning system, the field expiries past `now` still to be deleted: how many, of how many
   * people, the oldest, and how many of them a hold keeps (those are left out of the others). A
   * range of `field_expiries_feed` (expires_at first); holds are few and become a `case`.
   */
  async pastExpiry(now: number, holds: readonly HoldColumns[], scope: ExpiryScope): Promise<PastExpiryRow[]> {
    const rows = await this.scoped(scope)
      .where('fe.expires_at', '<=', now)
      .groupBy('d.system')
      .select((eb) => {
        const held = eb.or(
          holds.map((hold) =>
            eb.and([
              ...(hold.subjects ? [eb('fe.subject', 'in', inList(hold.subjects))] : []),
              ...(hold.systems ? [eb('d.system', 'in', inList(hold.systems))] : []),
              ...(hold.fields ? [eb('fe.field', 'in', inList(hold.fields))] : []),
              ...(hold.policies ? [eb('fe.policy', 'in', inList(hold.policies))] : []),
            ]),
          ),
        );
        const due = <T>(value: T) => eb.case().when(held).then(null).else(value).end();
        return [
          'd.system as system',
          eb.fn.count<number | string>(due(eb.ref('fe.field'))).as('fields'),
          eb.fn
            .count<number | string>(due(eb.ref('fe.subject')))
            .distinct()
            .as('subjects'),
          eb.fn.min<number | string | null>(due(eb.ref('fe.expires_at'))).as('oldest'),
          eb.fn.sum<number | string | null>(eb.case().when(held).then(1).else(0).end()).as('held'),
        ];
      })
      .execute();
    return rows.map((row) => ({
      system: row.system,
      fields: Number(row.fields),
      subjects: Number(row.subjects),
      oldest: row.oldest === null ? undefined : Number(row.oldest),
      held: Number(row.held ?? 0),
    }));
  }

  /**
   * Field expiries not erased, with the system whose dataset declares the field (`d.system`):
   * where the data lives, as holds and the feed's `system` filter see it. Undeclared fields
   * (dropped from their dataset since) belong to no system here.
   */
  private scoped(scope: ExpiryScope) {
    let query = this.db
      .selectFrom('field_expiries as fe')
      .innerJoin('fields as f', 'f.field', 'fe.field')
      .innerJoin('datasets as d', 'd.name', 'f.dataset')
      .where(notErased);
    if (scope.system !== undefined) query = query.where('d.system', '=', scope.system);
    if (scope.fields !== undefined) query = query.where('fe.field', 'in', inList(scope.fields));
    return query;
  }
}

/** `in ()` is not SQL: an empty list becomes one value no column holds (a field names a dataset). */
function inList(values: readonly string[]): string[] {
  return values.length > 0 ? [...values] : [''];
}
