import type { Kysely, Migration } from 'kysely';

/** One-time sign-in links. */
export const signInCodesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // One-time sign-in links: the code's hash and the token it is traded for (see
    // session/sign-in-codes.ts). A row is deleted when used; expired ones when a new one is made.
    await db.schema
      .createTable('sign_in_codes')
      .addColumn('code_hash', 'text', (c) => c.primaryKey())
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('system', 'text')
      .addColumn('categories', 'text')
      .addColumn('grants', 'text')
      .addColumn('ttl_seconds', 'integer', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sign_in_codes_expires').on('sign_in_codes').column('expires_at').execute();
  },
};
