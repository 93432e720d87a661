import type { Kysely, Migration } from 'kysely';

export const keyActivationMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // Null for every existing key: it signs from its creation, as before.
    await db.schema.alterTable('signing_keys').addColumn('activates_at', 'bigint').execute();
  },
};
