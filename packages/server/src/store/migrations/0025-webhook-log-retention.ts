import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Webhook log retention (docs/webhooks.md, "Retention"): the sweep that deletes settled
 * deliveries and their events past `LETHE_WEBHOOK_LOG_RETENTION` finds them by age (settled
 * deliveries only: a pending one is never pruned), and looks up whether an event still has a
 * delivery by its id.
 */
export const webhookLogRetentionMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('webhook_deliveries_settled')
      .on('webhook_deliveries')
      .column('created_at')
      .where(sql<boolean>`status <> 'pending'`)
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_event')
      .on('webhook_deliveries')
      .column('event_id')
      .execute();
    await db.schema
      .createIndex('webhook_events_dispatched')
      .on('webhook_events')
      .column('created_at')
      .where(sql<boolean>`dispatched_at is not null`)
      .execute();
  },
};
