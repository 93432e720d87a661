import type { Kysely } from 'kysely';
import { OPEN_STATUSES } from '../requests/request-status.js';
import type { Database } from '../store/schema.js';

/**
 * The queries behind the scrape-time gauges (`domain-gauges.ts`). Each is one aggregate or one
 * indexed row: the rights-request counts use `rights_requests_status` (status, due_at), the fields
 * past expiry `field_expiries_feed` (expires_at first), the export lags the first undelivered row.
 * The journal's lag is the store's own `journalBacklog` (SQLite keeps the journal in a file).
 */
export class DomainGaugeQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** Open requests past their deadline, and those due in [now, dueSoonBefore). */
  async requestDeadlines(now: number, dueSoonBefore: number): Promise<{ overdue: number; dueSoon: number }> {
    const row = await this.db
      .selectFrom('rights_requests')
      .where('status', 'in', [...OPEN_STATUSES])
      .where('due_at', '<', dueSoonBefore)
      .select((eb) => [
        eb.fn
          .sum<number | string | null>(eb.case().when('due_at', '<', now).then(1).else(0).end())
          .as('overdue'),
        eb.fn
          .sum<number | string | null>(eb.case().when('due_at', '>=', now).then(1).else(0).end())
          .as('dueSoon'),
      ])
      .executeTakeFirstOrThrow();
    return { overdue: Number(row.overdue ?? 0), dueSoon: Number(row.dueSoon ?? 0) };
  }

  /**
   * Per stream export, when the first base-stream event it has not delivered yet was received
   * (undefined: caught up).
   */
  async exportBacklogs(): Promise<Map<string, number | undefined>> {
    const exports = await this.db.selectFrom('stream_exports').select(['name', 'position']).execute();
    const backlogs = new Map<string, number | undefined>();
    for (const { name, position } of exports) {
      const next = await this.db
        .selectFrom('stream_events')
        .select('received_at')
        .where('seq', '>', position)
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst();
      backlogs.set(name, next === undefined ? undefined : Number(next.received_at));
    }
    return backlogs;
  }
}
