import type { Kysely, Migration } from 'kysely';

/** Privacy streams' field keys and the tombstones of shredded ones. */
export const fieldKeysMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // One key per (contract, key-link value, rotation period): the unique constraint is what
    // makes concurrent creation of the same key settle on one row.
    await db.schema
      .createTable('field_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('contract', 'text', (c) => c.notNull())
      .addColumn('key_link', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('period_start', 'bigint', (c) => c.notNull())
      .addColumn('period_end', 'bigint', (c) => c.notNull())
      .addColumn('wrapped', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('field_keys_period', ['contract', 'key_link', 'period_start'])
      .execute();
    await db.schema
      .createIndex('field_keys_active')
      .on('field_keys')
      .columns(['contract', 'key_link', 'period_end'])
      .execute();
    await db.schema.createIndex('field_keys_subject').on('field_keys').column('subject').execute();
    // What remains of a shredded key: which period it covered, never its material, so that
    // the key is not made again and readers can tell "shredded" from "unknown".
    await db.schema
      .createTable('field_key_tombstones')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('contract', 'text', (c) => c.notNull())
      .addColumn('key_link', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('period_start', 'bigint', (c) => c.notNull())
      .addColumn('period_end', 'bigint', (c) => c.notNull())
      .addColumn('shredded_at', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('field_key_tombstones_period')
      .on('field_key_tombstones')
      .columns(['contract', 'key_link', 'period_start'])
      .execute();
    await db.schema
      .createIndex('field_key_tombstones_subject')
      .on('field_key_tombstones')
      .column('subject')
      .execute();
  },
};
