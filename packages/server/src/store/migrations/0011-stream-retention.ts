import type { Kysely, Migration } from 'kysely';

/** The index the stream retention sweep deletes by. */
export const streamRetentionMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // The stream retention sweep deletes by event time.
    await db.schema.createIndex('stream_events_at').on('stream_events').column('at').execute();
  },
};
