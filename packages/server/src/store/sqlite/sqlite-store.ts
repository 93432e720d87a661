import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Kysely } from 'kysely';
import { migrateToLatest } from '../migrate.js';
import { Repository } from '../repository.js';
import type { Database } from '../schema.js';
import type { BackendCapabilities, IngestBatch, IngestOutcome, Store } from '../store.js';
import { GroupCommit } from '../group-commit.js';
import { StoreNotFoundError } from '../store-not-found.js';
import { SqliteIngestStatements } from './sqlite-ingest.js';
import { ImmediateSqliteDialect, openSqliteConnection } from './sqlite-connection.js';

/** Bounds one group commit so that a burst cannot hold the writer (and the event loop) for long. */
const MAX_EVENTS_PER_GROUP = 20_000;

export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:' for tests that need no durability. */
  readonly file: string;
  /** Refuse a missing file or one without Lethe's schema instead of creating the store. */
  readonly mustExist?: boolean | undefined;
}

/**
 * The embedded default: one file, opened by the connection setup that every process (server and
 * CLI) shares; transactions take the write lock at BEGIN (see `ImmediateSqliteDialect`).
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  if (options.mustExist && !existsSync(options.file)) {
    throw new StoreNotFoundError(`${dirname(options.file)} (it has no ${basename(options.file)})`);
  }
  if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
  const connection = openSqliteConnection(options.file);

  const capabilities: BackendCapabilities = {
    description: `sqlite ${options.file}`,
    withoutRowId: true,
    shared: false,
  };
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: connection }) });
  try {
    await migrateToLatest(db, capabilities, { mustExist: options.mustExist });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const statements = new SqliteIngestStatements(connection);
  // The hot path bypasses Kysely for prepared statements, but takes the same connection lock so
  // that it never runs inside another caller's open transaction.
  const groupCommit = new GroupCommit(
    (batches) => db.connection().execute(async () => statements.ingestGroup(batches)),
    { maxEventsPerGroup: MAX_EVENTS_PER_GROUP, maxConcurrentGroups: 1 },
  );

  return {
    capabilities,
    repository: new Repository(db),

    // One connection, serialised by Kysely's mutex: transactions never interleave. Catalog
    // exclusivity is therefore implied.
    transaction: (work) => db.transaction().execute((tx) => work(new Repository(tx))),

    ingest: (batch: IngestBatch): Promise<IngestOutcome> => groupCommit.submit(batch),

    async close() {
      await db.destroy();
    },
  };
}
