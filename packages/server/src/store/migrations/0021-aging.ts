import type { Kysely, Migration } from 'kysely';

/**
 * Aging strategies (docs/retention.md, "Aging"): a policy's `since` — what its retention counts
 * from — on the policy and each of its versions (existing policies age from the last use, the rule
 * they always had), and the subjects' events an `event:` policy counts from. An event is kept once
 * per (subject, name, at); its optional client id is unique, so a retry is a duplicate.
 */
export const agingMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('policies')
      .addColumn('since', 'text', (col) => col.notNull().defaultTo('last-use'))
      .execute();
    await db.schema
      .alterTable('policy_versions')
      .addColumn('since', 'text', (col) => col.notNull().defaultTo('last-use'))
      .execute();
    await db.schema
      .createTable('subject_events')
      .addColumn('subject', 'text', (col) => col.notNull())
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('at', 'bigint', (col) => col.notNull())
      .addColumn('event_id', 'text')
      .addColumn('received_at', 'bigint', (col) => col.notNull())
      .addPrimaryKeyConstraint('subject_events_pk', ['subject', 'name', 'at'])
      .execute();
    await db.schema
      .createIndex('subject_events_event_id')
      .unique()
      .on('subject_events')
      .column('event_id')
      .execute();
  },
};
