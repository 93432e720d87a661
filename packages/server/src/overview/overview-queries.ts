import type { RequestStatus } from '@lethe/api';
import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { HoldColumns } from '../retention/holds/hold-rules.js';
import type { Database } from '../store/schema.js';

const DAY_MS = 86_400_000;
/** Hold list values bound into one statement at most; past that, holds are matched in `pastExpiryMatchedHere`. */
const HOLD_VALUES_IN_SQL = 20_000;

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
  async requestCount(statuses: readonly RequestStatus[]): Promise<number> {
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
    const values = holds.reduce(
      (sum, hold) =>
        sum +
        (hold.subjects?.length ?? 0) +
        (hold.systems?.length ?? 0) +
        (hold.fields?.length ?? 0) +
        (hold.policies?.length ?? 0),
      0,
    );
    if (values > HOLD_VALUES_IN_SQL) return this.pastExpiryMatchedHere(now, holds, scope);
    // Whether a hold keeps the row is worked out once per row, inside, so that each hold's lists
    // are bound once (not once per aggregate: a hold of 10,000 subjects is 10,000 parameters).
    const marked = this.scoped(scope)
      .where('fe.expires_at', '<=', now)
      .select((eb) => [
        'd.system as system',
        'fe.field as field',
        'fe.subject as subject',
        'fe.expires_at as expires_at',
        eb
          .case()
          .when(
            eb.or(
              holds.map((hold) =>
                eb.and([
                  ...(hold.subjects ? [eb('fe.subject', 'in', inList(hold.subjects))] : []),
                  ...(hold.systems ? [eb('d.system', 'in', inList(hold.systems))] : []),
                  ...(hold.fields ? [eb('fe.field', 'in', inList(hold.fields))] : []),
                  ...(hold.policies ? [eb('fe.policy', 'in', inList(hold.policies))] : []),
                ]),
              ),
            ),
          )
          .then(1)
          .else(0)
          .end()
          .as('held'),
      ])
      .as('m');
    const rows = await this.db
      .selectFrom(marked)
      .groupBy('m.system')
      .select((eb) => {
        const due = <T>(value: T) => eb.case().when('m.held', '=', 1).then(null).else(value).end();
        return [
          'm.system as system',
          eb.fn.count<number | string>(due(eb.ref('m.field'))).as('fields'),
          eb.fn
            .count<number | string>(due(eb.ref('m.subject')))
            .distinct()
            .as('subjects'),
          eb.fn.min<number | string | null>(due(eb.ref('m.expires_at'))).as('oldest'),
          eb.fn.sum<number | string | null>('m.held').as('held'),
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
   * `pastExpiry` for holds whose lists together exceed what one statement may bind (SQLite takes
   * 32,766 parameters): the past-due rows are read and matched against the holds here instead.
   */
  private async pastExpiryMatchedHere(
    now: number,
    holds: readonly HoldColumns[],
    scope: ExpiryScope,
  ): Promise<PastExpiryRow[]> {
    const sets = holds.map((hold) => ({
      subjects: hold.subjects && new Set(hold.subjects),
      systems: hold.systems && new Set(hold.systems),
      fields: hold.fields && new Set(hold.fields),
      policies: hold.policies && new Set(hold.policies),
    }));
    const rows = await this.scoped(scope)
      .where('fe.expires_at', '<=', now)
      .select(['d.system as system', 'fe.subject', 'fe.field', 'fe.policy', 'fe.expires_at'])
      .execute();
    const bySystem = new Map<
      string,
      { fields: number; subjects: Set<string>; oldest?: number; held: number }
    >();
    for (const row of rows) {
      const entry = bySystem.get(row.system) ?? { fields: 0, subjects: new Set<string>(), held: 0 };
      bySystem.set(row.system, entry);
      const held = sets.some(
        (hold) =>
          (!hold.subjects || hold.subjects.has(row.subject)) &&
          (!hold.systems || hold.systems.has(row.system)) &&
          (!hold.fields || hold.fields.has(row.field)) &&
          (!hold.policies || hold.policies.has(row.policy)),
      );
      if (held) {
        entry.held += 1;
        continue;
      }
      const expiresAt = Number(row.expires_at);
      entry.fields += 1;
      entry.subjects.add(row.subject);
      entry.oldest = entry.oldest === undefined ? expiresAt : Math.min(entry.oldest, expiresAt);
    }
    return [...bySystem].map(([system, entry]) => ({
      system,
      fields: entry.fields,
      subjects: entry.subjects.size,
      oldest: entry.oldest,
      held: entry.held,
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
