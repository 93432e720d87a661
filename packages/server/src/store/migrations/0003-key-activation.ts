import type { Kysely, Migration } from 'kysely';

/** Signing keys published ahead of signing (scheduled rotation). */
export const keyActivationMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // Null for every existing key: it signs from its creation, as before.
    await db.schema.alterTable('signing_keys').addColumn('activates_at', 'bigint').execute();
  },
};
