import type { Kysely, Migration } from 'kysely';

/**
 * A delete_pii request's data categories (JSON array of taxonomy keys; null: every personal
 * column): "erase contact data, keep the name". Not personal data, so kept in the clear.
 */
export const erasureCategoriesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('rights_requests').addColumn('categories', 'text').execute();
  },
};
