import type { Kysely, Migration } from 'kysely';
import type { BackendCapabilities } from '../store.js';
import { withoutRowIdClause } from './without-row-id.js';

/** Consent: its history, the state derived from it, uses without it. */
export function consentMigration(capabilities: BackendCapabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const withoutRowId = withoutRowIdClause(capabilities);
      // The history: one row per grant or withdrawal, never updated (GDPR Art. 7(1) proof).
      await db.schema
        .createTable('consent_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('granted', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('recorded_at', 'bigint', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('recorded_by', 'text', (c) => c.notNull())
        .addColumn('recorder_role', 'text', (c) => c.notNull())
        .addColumn('source', 'text')
        .addColumn('notice', 'text')
        .addColumn('notice_version', 'text')
        .addColumn('method', 'text')
        .addColumn('channel', 'text')
        .addColumn('url', 'text')
        .addColumn('tc_string', 'text')
        .execute();
      await db.schema
        .createIndex('consent_events_subject')
        .on('consent_events')
        .columns(['subject', 'purpose', 'at'])
        .execute();
      // The state derived from the history, read by ingest under a share lock on PostgreSQL.
      await db.schema
        .createTable('consent_states')
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('granted_at', 'bigint')
        .addColumn('withdrawn_at', 'bigint')
        .addColumn('changed_at', 'bigint', (c) => c.notNull())
        .addColumn('last_event_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('consent_states_pk', ['subject', 'purpose'])
        .modifyEnd(withoutRowId)
        .execute();
      await db.schema
        .createTable('consent_violations')
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('system', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('first_at', 'bigint', (c) => c.notNull())
        .addColumn('last_at', 'bigint', (c) => c.notNull())
        .addColumn('use_count', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('consent_violations_pk', ['subject', 'policy', 'system'])
        .modifyEnd(withoutRowId)
        .execute();
      await db.schema
        .createIndex('consent_violations_last')
        .on('consent_violations')
        .columns(['last_at', 'subject', 'policy', 'system'])
        .execute();
      // Uses recorded before consent was tracked stay unconsented: nothing proves consent for them.
      await db.schema.alterTable('usages').addColumn('last_consented_use_at', 'bigint').execute();
    },
  };
}
