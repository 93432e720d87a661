import type { Kysely, Migration } from 'kysely';

/**
 * A circuit breaker per webhook subscription (docs/webhooks.md "Slow and failing receivers"):
 * how many attempts in a row failed, and until when the subscription's deliveries wait. Kept in
 * the store so that every node pauses a failing receiver, and the API shows it.
 */
export const webhookBreakerMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('webhooks')
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('webhooks').addColumn('paused_until', 'bigint').execute();
  },
};
