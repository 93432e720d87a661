import { sql, type Kysely, type Migration } from 'kysely';
import type { BackendCapabilities } from '../store.js';

/**
 * PostgreSQL only: the usage journal's partition (by subject, `postgres/fold-partitions.ts`),
 * so that partitions fold in parallel, each under its own lock. Rows appended before it are in
 * partition 0, which is folded like any other. And the event ids' age index becomes a BRIN
 * index: ids are inserted in `received_at` order, so block ranges find the due ones for the
 * hourly forgetting as well as a B-tree would, while ingest no longer inserts into a second
 * B-tree (and writes its WAL) for every event.
 */
export function postgresFoldPartitionsMigration(capabilities: BackendCapabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (!capabilities.shared) return;
      await sql`alter table usage_journal add column part smallint not null default 0`.execute(db);
      await sql`create index usage_journal_part on usage_journal (part, seq)`.execute(db);
      await sql`drop index event_ids_received`.execute(db);
      await sql`create index event_ids_received on event_ids using brin (received_at)`.execute(db);
    },
  };
}
