import type { Kysely, Migration } from 'kysely';

/** Exports of privacy streams. */
export const streamExportsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // Exports of privacy streams to files or NATS: their configuration, where they are, and
    // which node runs each (a lease, so that only one node writes an export at a time).
    await db.schema
      .createTable('stream_exports')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('purposes', 'text')
      .addColumn('withheld', 'text', (c) => c.notNull())
      .addColumn('file_max_bytes', 'bigint')
      .addColumn('file_max_age_seconds', 'integer')
      .addColumn('nats_subject', 'text')
      .addColumn('config_version', 'integer', (c) => c.notNull())
      .addColumn('position', 'bigint', (c) => c.notNull())
      .addColumn('files_written', 'integer', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('last_error_at', 'bigint')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
