import type { Kysely, Migration } from 'kysely';

/**
 * Legal holds (docs/retention.md): one row per standing hold. Releasing a hold deletes its row;
 * the audit log keeps who placed and released it, when and why.
 */
export const legalHoldsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('holds')
      .addColumn('name', 'text', (col) => col.primaryKey())
      .addColumn('reason', 'text', (col) => col.notNull())
      .addColumn('subjects', 'text')
      .addColumn('systems', 'text')
      .addColumn('categories', 'text')
      .addColumn('policies', 'text')
      .addColumn('review_at', 'bigint')
      .addColumn('created_at', 'bigint', (col) => col.notNull())
      .addColumn('created_by', 'text', (col) => col.notNull())
      .addColumn('updated_at', 'bigint', (col) => col.notNull())
      .addColumn('updated_by', 'text', (col) => col.notNull())
      .execute();
  },
};
