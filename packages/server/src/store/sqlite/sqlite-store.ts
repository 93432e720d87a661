import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Kysely } from 'kysely';
import { migrateToLatest } from '../migrate.js';
import { Repository } from '../repository.js';
import type { Database } from '../schema.js';
import type { BackendCapabilities, IngestBatch, IngestOutcome, Store } from '../store.js';
import { auditGroupCommit } from '../audit-group-commit.js';
import { GroupCommit } from '../group-commit.js';
import BetterSqlite3 from 'better-sqlite3';
import { SerialGate } from '../../lib/serial-gate.js';
import { SqliteAuditStatements } from './sqlite-audit.js';
import { SqliteFoldStatements } from './sqlite-fold.js';
import { FoldThread } from './sqlite-fold-thread.js';
import { StoreNotFoundError } from '../store-not-found.js';
import { SqliteJournalAppend } from './sqlite-ingest.js';
import { adoptJournal, foldedPosition, journalFileOf, openJournalFile } from './sqlite-journal-file.js';
import { ImmediateSqliteDialect, openSqliteConnection, SQLITE_BUSY_TIMEOUT_MS } from './sqlite-connection.js';
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
  /** The fold worker's module (default the one beside this code; see `StoreLocation`). */
  readonly foldWorker?: URL | undefined;
}

/**
 * The embedded default: the main file and the usage journal's file beside it
 * (`sqlite-journal-file.ts`), opened by the connection setup that every process (server and CLI)
 * shares; transactions take the write lock at BEGIN (see `ImmediateSqliteDialect`). Ingest
 * appends to the journal file on this thread; a worker thread folds it into the main file.
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
  const journalFile = journalFileOf(options.file);
  const journal = openJournalFile(journalFile);
  adoptJournal(connection, journal, options.file);
  // The committed catalog version, read beside the main connection (which may be inside a
  // transaction of its own): a WAL read, it never waits for a writer.
  const reader =
    options.file === ':memory:'
      ? connection
      : new BetterSqlite3(options.file, { readonly: true, timeout: SQLITE_BUSY_TIMEOUT_MS });
  const version = reader.prepare<[], { value: string }>(
    "select value from meta where key = 'catalog_version'",
  );
  const appends = new SqliteJournalAppend(journal, () => Number(version.get()?.value));
  const audit = new SqliteAuditStatements(connection);
  // The fold on the main connection: what is left inside a `freshAggregates` transaction.
  const inline = new SqliteFoldStatements(connection, journal);
  const folded = () => (reader === connection ? inline.foldedPosition() : foldedPosition(reader));
  // The hot path and the fold bypass Kysely for prepared statements, but take the same
  // connection lock so that they never run inside another caller's open transaction.
  const exclusive = <T>(work: () => T): Promise<T> => db.connection().execute(async () => work());
  const worker =
    options.file === ':memory:'
      ? undefined
      : new FoldThread({ main: options.file, journal: journalFile }, options.foldWorker);
  const foldOnce = (maxEvents: number, upTo: number) =>
    worker
      ? worker.fold(maxEvents, upTo)
      : exclusive(() => {
          const result = inline.foldOnce(maxEvents, upTo);
          inline.deleteFolded();
          return result;
        });
  // The main file's writers on this thread take turns with the worker's folds: a transaction
  // that found the write lock taken by the worker would wait synchronously, event loop and all.
  const writer = new SerialGate();
  // Appends wait while a catalog change is being made (see `transaction`).
  const catalog = new SerialGate();
  const groupCommit = new GroupCommit<IngestBatch, IngestOutcome>(
    (batches) => catalog.run(() => appends.ingestGroup(batches)),
    { maxPerGroup: MAX_EVENTS_PER_GROUP, maxConcurrentGroups: 1, sizeOf: (batch) => batch.events.length },
  );

  /** Folds (on the worker) every row appended before the call, in bounded transactions. */
  async function drain(): Promise<void> {
    // Up to the position at the call: appends that commit meanwhile need not hold the reader up.
    const upTo = appends.lastPosition();
    const nothing = { rows: 0, events: 0 };
    while (folded() < upTo) {
      // Concurrent reads queue here: one whose rows a fold ahead of it took asks for nothing.
      const result = await writer.run(() =>
        folded() < upTo ? foldOnce(DRAIN_EVENTS_PER_FOLD, upTo) : nothing,
      );
      if (result.rows === 0) break;
    }
  }

  return {
    capabilities,
    repository: new Repository(db),

    // One connection, serialised by Kysely's mutex: transactions never interleave. The journal
    // is drained on the worker first, then what was appended meanwhile inside the transaction.
    // A catalog change also keeps appends out until it commits: none validated against the
    // catalog it replaces may be appended after it (the append compares catalog versions).
    async transaction(work, options) {
      const fresh = Boolean(options?.freshAggregates || options?.exclusiveCatalog);
      if (fresh) await drain();
      const run = () =>
        writer.run(() =>
          db.transaction().execute(async (tx) => {
            if (fresh) while (inline.foldOnce(DRAIN_EVENTS_PER_FOLD).rows > 0);
            return work(new Repository(tx));
          }),
        );
      return options?.exclusiveCatalog ? catalog.run(run) : run();
    },

    ingest: (batch: IngestBatch): Promise<IngestOutcome> => groupCommit.submit(batch),

    appendAudit: auditGroupCommit((records) => writer.run(() => exclusive(() => audit.appendGroup(records)))),

    fold: (maxEvents) => writer.run(() => foldOnce(maxEvents, Number.MAX_SAFE_INTEGER)),

    freshAggregates: drain,

    // On the appends' connection, synchronously: no append interleaves.
    forgetEventIds: async (receivedBefore, horizon) => appends.forgetEventIds(receivedBefore, horizon),

    journalBacklog: async () => appends.backlog(folded()),

    async close() {
      await worker?.close();
      await db.destroy();
      journal.close();
      if (reader !== connection) reader.close();
    },
  };
}
