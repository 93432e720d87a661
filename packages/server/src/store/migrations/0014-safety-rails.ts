import type { Kysely, Migration } from 'kysely';

/**
 * Safety rails of rights requests: why a reached row was not erased (`kept`: `shared`, room for
 * more reasons), stored with the report's records; and an erasure task's plan (rows it would
 * change per table) while it waits for a DPO's approval, with what was approved.
 */
export const safetyRailsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('request_records').addColumn('kept', 'text').execute();
    await db.schema.alterTable('request_tasks').addColumn('erasure_plan', 'text').execute();
  },
};
