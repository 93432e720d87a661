import { sql, type Kysely, type Migration } from 'kysely';
import type { BackendCapabilities } from '../store.js';

/** Before any event id was forgotten, no event is too old to be deduplicated. */
export const NO_EVENT_ID_HORIZON = String(-8_640_000_000_000_000);

/**
 * The usage journal (accepted telemetry, appended by ingest and folded into the aggregates in the
 * background: docs/retention.md), and what bounds the event-id dedupe: an index to forget ids by
 * age and the horizon before which an event id may have been forgotten.
 */
export function usageJournalMigration(capabilities: BackendCapabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // SQLite's `integer primary key` is the rowid: appended in commit order, no second B-tree.
      const seq = capabilities.withoutRowId ? sql`integer primary key` : sql`bigserial primary key`;
      const bytes = capabilities.withoutRowId ? sql`blob` : sql`bytea`;
      await sql`create table usage_journal (
        seq ${seq},
        appended_at bigint not null,
        events integer not null,
        payload ${bytes} not null
      )`.execute(db);
      await db.schema.createIndex('event_ids_received').on('event_ids').column('received_at').execute();
      await db
        .insertInto('meta' as never)
        .values({ key: 'event_id_horizon', value: NO_EVENT_ID_HORIZON })
        .execute();
    },
  };
}
