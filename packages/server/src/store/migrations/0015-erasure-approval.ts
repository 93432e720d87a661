import type { Kysely, Migration } from 'kysely';

/**
 * An erasure's plan per task (rows per table it would change, JSON, counted by the connector in
 * the run's transaction) and the approval a DPO gave to such a plan: which counts, by whom, when.
 * Table names and counts only, no personal data.
 */
export const erasureApprovalMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('request_tasks').addColumn('erasure_plan', 'text').execute();
    await db.schema.alterTable('request_tasks').addColumn('approved_plan', 'text').execute();
    await db.schema.alterTable('request_tasks').addColumn('plan_approved_by', 'text').execute();
    await db.schema.alterTable('request_tasks').addColumn('plan_approved_at', 'bigint').execute();
  },
};
