import type { Kysely, Migration } from 'kysely';

/**
 * Policy change reasons (docs/retention.md, "Retention changes"): why a version was made, kept on
 * the version itself so the history answers "why did this retention change?" without the audit log.
 * Versions saved before have none (null).
 */
export const policyChangeReasonMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('policy_versions').addColumn('reason', 'text').execute();
  },
};
