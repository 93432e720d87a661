import type { Kysely, Selectable } from 'kysely';
import { FINAL_STATUSES } from '../requests/request-status.js';
import type { Database } from '../store/schema.js';
import type { WebhookDeliveryRow, WebhookEventRow, WebhookRow } from './webhook-tables.js';

/** A delivery with the event it carries and its subscription's breaker, as the sender and the log read it. */
export type DeliveryWithEvent = Selectable<WebhookDeliveryRow> & {
  type: string;
  data: string;
  event_created_at: number;
  webhook_failures: number | null;
  webhook_paused_until: number | null;
};

/** Subscriptions (tens of rows, read whole), the outbox, the delivery log and the notices given. */
export class WebhookQueries {
  constructor(private readonly db: Kysely<Database>) {}

  list(): Promise<WebhookRow[]> {
    return this.db.selectFrom('webhooks').selectAll().orderBy('name').execute();
  }

  get(name: string): Promise<WebhookRow | undefined> {
    return this.db.selectFrom('webhooks').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** Stores a new subscription; false when the name is taken (also by a concurrent create). */
  async insert(row: WebhookRow): Promise<boolean> {
    const result = await this.db
      .insertInto('webhooks')
      .values(row)
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async update(name: string, changes: Partial<WebhookRow>): Promise<void> {
    await this.db.updateTable('webhooks').set(changes).where('name', '=', name).execute();
  }

  /** Removes the subscription and the deliveries still waiting for it (the log of the others goes too). */
  async delete(name: string): Promise<boolean> {
    await this.db.deleteFrom('webhook_deliveries').where('webhook', '=', name).execute();
    const result = await this.db.deleteFrom('webhooks').where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async addEvent(row: WebhookEventRow): Promise<void> {
    await this.db.insertInto('webhook_events').values(row).execute();
  }

  /**
   * Records that a time-found fact was announced; false when it had been already. Written in the
   * transaction of the event, so a rolled-back event is announced again on the next sweep.
   */
  /** Which of `keys` were announced already. */
  async noticed(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.db.selectFrom('webhook_notices').select('key').where('key', 'in', keys).execute();
    return new Set(rows.map((row) => row.key));
  }

  async claimNotice(key: string, now: number): Promise<boolean> {
    const result = await this.db
      .insertInto('webhook_notices')
      .values({ key, created_at: now })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  undispatched(limit: number): Promise<WebhookEventRow[]> {
    return this.db
      .selectFrom('webhook_events')
      .selectAll()
      .where('dispatched_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** Marks the event dispatched; false when another node did first (its deliveries stand). */
  async markDispatched(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_events')
      .set({ dispatched_at: now })
      .where('id', '=', id)
      .where('dispatched_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async addDelivery(row: WebhookDeliveryRow): Promise<void> {
    await this.db.insertInto('webhook_deliveries').values(row).execute();
  }

  private deliveries() {
    return this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
      .leftJoin('webhooks as w', 'w.name', 'd.webhook')
      .selectAll('d')
      .select([
        'e.type',
        'e.data',
        'e.created_at as event_created_at',
        'w.failures as webhook_failures',
        'w.paused_until as webhook_paused_until',
      ]);
  }

  /**
   * Pending deliveries whose next attempt is due, oldest first; not those of a paused
   * subscription (its breaker is open) nor of the subscriptions in `busy` (as many of their
   * attempts under way as they may have), so that they do not crowd the others out of the batch.
   */
  due(now: number, limit: number, busy: readonly string[] = []): Promise<DeliveryWithEvent[]> {
    let query = this.deliveries()
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('w.paused_until', 'is', null), eb('w.paused_until', '<=', now)]));
    if (busy.length > 0) query = query.where('d.webhook', 'not in', busy);
    return query.orderBy('d.next_attempt_at').limit(limit).execute();
  }

  /**
   * Counts an attempt's outcome against its subscription's breaker: a delivered one closes it; a
   * failed one adds to the failures in a row and, from `threshold` on, pauses the subscription
   * until `pauseUntil`. Returns the failures in a row now.
   */
  async countOutcome(
    name: string,
    delivered: boolean,
    threshold: number,
    pauseUntil: number,
  ): Promise<number> {
    if (delivered) {
      await this.db
        .updateTable('webhooks')
        .set({ failures: 0, paused_until: null })
        .where('name', '=', name)
        .where((eb) => eb.or([eb('failures', '>', 0), eb('paused_until', 'is not', null)]))
        .execute();
      return 0;
    }
    await this.db
      .updateTable('webhooks')
      .set((eb) => ({
        failures: eb('failures', '+', 1),
        paused_until: eb
          .case()
          .when('failures', '>=', threshold - 1)
          .then(pauseUntil)
          .else(eb.ref('paused_until'))
          .end(),
      }))
      .where('name', '=', name)
      .execute();
    const row = await this.db
      .selectFrom('webhooks')
      .select('failures')
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.failures ?? 0;
  }

  getDelivery(id: string): Promise<DeliveryWithEvent | undefined> {
    return this.deliveries().where('d.id', '=', id).executeTakeFirst();
  }

  /** Newest first. */
  deliveriesOf(webhook: string, limit: number): Promise<DeliveryWithEvent[]> {
    return this.deliveries()
      .where('d.webhook', '=', webhook)
      .orderBy('d.created_at', 'desc')
      .orderBy('d.id', 'desc')
      .limit(limit)
      .execute();
  }

  /**
   * Takes a due delivery for one attempt by moving its next attempt past the attempt's timeout
   * (compare-and-set on the time read): of several nodes, one sends; a node that dies mid-attempt
   * leaves it due again once that time has passed.
   */
  async claim(id: string, seenNextAttemptAt: number, leaseUntil: number): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: leaseUntil })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '=', seenNextAttemptAt)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async recordAttempt(
    id: string,
    outcome: Pick<
      WebhookDeliveryRow,
      | 'status'
      | 'attempts'
      | 'next_attempt_at'
      | 'response_status'
      | 'latency_ms'
      | 'last_error'
      | 'delivered_at'
    >,
  ): Promise<void> {
    await this.db.updateTable('webhook_deliveries').set(outcome).where('id', '=', id).execute();
  }

  /** Delivered or failed deliveries made before `before` (never a pending one): a page of ids. */
  async settledDeliveriesBefore(before: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '<>', 'pending')
      .where('created_at', '<', before)
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  }

  async deleteSettledDeliveries(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.db
      .deleteFrom('webhook_deliveries')
      .where('id', 'in', ids)
      .where('status', '<>', 'pending')
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Dispatched events made before `before` that no delivery (pending or logged) refers to. */
  async orphanEventsBefore(before: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('webhook_events as e')
      .select('e.id')
      .where('e.dispatched_at', '<', before)
      .where('e.created_at', '<', before)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb.selectFrom('webhook_deliveries as d').select('d.id').whereRef('d.event_id', '=', 'e.id'),
          ),
        ),
      )
      .orderBy('e.created_at')
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  }

  /**
   * Marks an event as dispatched again now, for a redelivery: the row is written (and so locked)
   * before the redelivery refers to it, and the sweep only deletes events dispatched before its
   * cutoff. On PostgreSQL a sweep deleting the event at the same time either waits for this write
   * and then skips the row (its dispatch time is now recent), or has deleted it first (false here).
   */
  async redispatch(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_events')
      .set({ dispatched_at: now })
      .where('id', '=', id)
      .where('dispatched_at', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deleteOrphanEvents(ids: readonly string[], before: number): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.db
      .deleteFrom('webhook_events')
      .where('id', 'in', ids)
      // Re-checked on the row's newest version if a redelivery wrote it meanwhile (see redispatch).
      .where('dispatched_at', '<', before)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('webhook_deliveries as d')
              .select('d.id')
              .whereRef('d.event_id', '=', 'webhook_events.id'),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** A page of the notice keys given before `before`, in key order after `afterKey`. */
  async noticesBefore(before: number, afterKey: string, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('webhook_notices')
      .select('key')
      .where('created_at', '<', before)
      .where('key', '>', afterKey)
      .orderBy('key')
      .limit(limit)
      .execute();
    return rows.map((row) => row.key);
  }

  async deleteNotices(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const result = await this.db.deleteFrom('webhook_notices').where('key', 'in', keys).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Which of these requests something may still happen to (not completed, denied or canceled). */
  async unfinishedRequests(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('rights_requests')
      .select('id')
      .where('id', 'in', ids)
      .where('status', 'not in', FINAL_STATUSES)
      .execute();
    return new Set(rows.map((row) => row.id));
  }
}
