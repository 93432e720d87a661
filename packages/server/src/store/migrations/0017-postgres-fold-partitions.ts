import { sql, type Kysely, type Migration } from 'kysely';
import type { BackendCapabilities } from '../store.js';

/**
 * PostgreSQL only: the usage journal's partition (by subject, `postgres/fold-partitions.ts`),
 * so that partitions fold in parallel, each under its own lock. Rows appended before it are in
 * partition 0, which is folded like any other.
 */
export function postgresFoldPartitionsMigration(capabilities: BackendCapabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (!capabilities.shared) return;
      await sql`alter table usage_journal add column part smallint not null default 0`.execute(db);
      await sql`create index usage_journal_part on usage_journal (part, seq)`.execute(db);
    },
  };
}
