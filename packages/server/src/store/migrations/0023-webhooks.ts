import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Webhooks (docs/webhooks.md): subscriptions with their secret wrapped under the master key; an
 * outbox of events written in the transaction that decides each fact (so a commit means the event
 * will be sent); one delivery row per (event, subscription) with its attempts, the log the API
 * shows; and the notices already given for facts found by time (an overdue request, a day's due
 * fields), so that a sweep that runs again sends nothing twice.
 */
export const webhooksMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('webhooks')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('systems', 'text')
      .addColumn('due_soon_days', 'integer', (c) => c.notNull())
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('system', 'text')
      // Set for an event meant for one subscription only (its own `request.due_soon` horizon).
      .addColumn('webhook', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('dispatched_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('webhook_events_undispatched')
      .on('webhook_events')
      .column('created_at')
      .where(sql<boolean>`dispatched_at is null`)
      .execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('webhook', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('response_status', 'integer')
      .addColumn('latency_ms', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('redelivery_of', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_due')
      .on('webhook_deliveries')
      .columns(['status', 'next_attempt_at'])
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_log')
      .on('webhook_deliveries')
      .columns(['webhook', 'created_at'])
      .execute();
    await db.schema
      .createTable('webhook_notices')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
