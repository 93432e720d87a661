import type { Kysely, Migration } from 'kysely';

/** Data contract versions and the base stream. */
export const privacyStreamsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // Contract versions are immutable: a row is written once and never updated.
    await db.schema
      .createTable('contracts')
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('contracts_pk', ['name', 'version'])
      .execute();
    // The base stream. `seq` is assigned by the appender while it holds the `stream_head` row
    // lock, so positions become visible in order (see StreamQueries.append). No subject
    // column: the subject id is usually personal, and the key row already ties key to subject.
    await db.schema
      .createTable('stream_events')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('contract', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text')
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('consent', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('stream_head')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .execute();
    await db
      .insertInto('stream_head' as never)
      .values({ id: 1, seq: 0 })
      .execute();
  },
};
