import type { Kysely, Migration } from 'kysely';

/**
 * Safety rails of rights requests: why a reached row was not erased (`kept`: `shared`, room for
 * more reasons), stored with the report's records.
 */
export const safetyRailsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('request_records').addColumn('kept', 'text').execute();
  },
};
