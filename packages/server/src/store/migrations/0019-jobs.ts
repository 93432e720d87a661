import type { Kysely, Migration } from 'kysely';

/**
 * Durable background jobs (docs/retention.md, "Retention changes"): a retention recompute is
 * recorded here by the policy change that asks for it, and carried out off the request path
 * chunk by chunk, each chunk committing its writes together with the job's checkpoint and
 * progress; `lease_owner`/`lease_until` say which node runs it (compare-and-set, so one at a time).
 */
export const jobsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('target_version', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('done', 'bigint', (c) => c.notNull())
      .addColumn('total', 'bigint')
      .addColumn('checkpoint', 'text')
      .addColumn('result', 'text')
      .addColumn('error', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('superseded_by', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .execute();
    // The runner looks for open jobs; a policy change for the open job of the same target.
    await db.schema.createIndex('jobs_by_state').on('jobs').columns(['state', 'created_at']).execute();
    await db.schema.createIndex('jobs_by_target').on('jobs').columns(['kind', 'target', 'state']).execute();
  },
};
