import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Kysely } from 'kysely';
import { migrateToLatest } from '../migrate.js';
import { Repository } from '../repository.js';
import type { Database } from '../schema.js';
import type { BackendCapabilities, IngestBatch, IngestOutcome, Store } from '../store.js';
import { auditGroupCommit } from '../audit-group-commit.js';
import { GroupCommit } from '../group-commit.js';
import { SqliteFoldStatements } from './sqlite-fold.js';
import { StoreNotFoundError } from '../store-not-found.js';
import { SqliteIngestStatements } from './sqlite-ingest.js';
import { ImmediateSqliteDialect, openSqliteConnection } from './sqlite-connection.js';
import { withStatementCache } from './statement-cache.js';

/** Bounds one group commit so that a burst cannot hold the writer (and the event loop) for long. */
const MAX_EVENTS_PER_GROUP = 20_000;
/** Events per transaction when a read drains the journal: bounds how long appends wait. */
const DRAIN_EVENTS_PER_FOLD = 20_000;

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
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(connection) }),
  });
  try {
    await migrateToLatest(db, capabilities, { mustExist: options.mustExist });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const statements = new SqliteIngestStatements(connection);
  const fold = new SqliteFoldStatements(connection);
  // The hot path and the fold bypass Kysely for prepared statements, but take the same
  // connection lock so that they never run inside another caller's open transaction.
  const exclusive = <T>(work: () => T): Promise<T> => db.connection().execute(async () => work());
  const groupCommit = new GroupCommit<IngestBatch, IngestOutcome>(
    (batches) => exclusive(() => statements.ingestGroup(batches)),
    { maxPerGroup: MAX_EVENTS_PER_GROUP, maxConcurrentGroups: 1, sizeOf: (batch) => batch.events.length },
  );

  return {
    capabilities,
    repository: new Repository(db),

    // One connection, serialised by Kysely's mutex: transactions never interleave. Catalog
    // exclusivity is therefore implied.
    transaction: (work, options) =>
      db.transaction().execute(async (tx) => {
        if (options?.freshAggregates || options?.exclusiveCatalog)
          while (fold.foldOnce(DRAIN_EVENTS_PER_FOLD).rows > 0);
        return work(new Repository(tx));
      }),

    ingest: (batch: IngestBatch): Promise<IngestOutcome> => groupCommit.submit(batch),

    appendAudit: auditGroupCommit((records) => exclusive(() => statements.appendAuditGroup(records))),

    fold: (maxEvents) => exclusive(() => fold.foldOnce(maxEvents)),

    async freshAggregates() {
      // Up to the position at the call: appends that commit meanwhile need not hold the reader up.
      const upTo = await exclusive(() => fold.lastPosition());
      if (upTo === 0) return; // the journal is empty: everything acknowledged is folded
      while ((await exclusive(() => fold.foldOnce(DRAIN_EVENTS_PER_FOLD, upTo))).rows > 0);
    },

    journalBacklog: () => exclusive(() => fold.journalBacklog()),

    async close() {
      await db.destroy();
    },
  };
}
