import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { auditGroupCommit } from '../audit-group-commit.js';
import { GroupCommit } from '../group-commit.js';
import { migrateToLatest } from '../migrate.js';
import { Repository } from '../repository.js';
import type { Database } from '../schema.js';
import type { BackendCapabilities, IngestBatch, IngestOutcome, Store } from '../store.js';
import { FOLD_PARTITIONS } from './fold-partitions.js';
import {
  foldPostgres,
  journalPositions,
  lockAllPartitions,
  postgresJournalBacklog,
} from './postgres-fold.js';
import { appendPostgresGroup } from './postgres-ingest.js';

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database` */
  readonly url: string;
  readonly maxConnections?: number;
  /** Refuse a database without Lethe's schema instead of creating the store in it. */
  readonly mustExist?: boolean | undefined;
}

const INT8_OID = 20;
/** Deadlock and serialisation failures are safe to retry: the transaction was rolled back. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;
const MAX_EVENTS_PER_GROUP = 20_000;
/** Events per transaction when a read drains the journal. */
const DRAIN_EVENTS_PER_FOLD = 50_000;

/**
 * PostgreSQL backend: stateless API nodes share it, so the catalog is revalidated per batch and
 * policy changes take an exclusive lock that concurrent ingest waits for.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const maxConnections = options.maxConnections ?? 10;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: maxConnections,
    // Epoch milliseconds are bigint columns; they fit a JS number exactly.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? Number
          : (pg.types.getTypeParser(oid, format) as (
              text: string,
            ) => unknown)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle pooled connection that the server closes (restart, failover, admin) emits 'error';
  // without a listener that would crash the process. The pool replaces it on the next checkout.
  pool.on('error', () => {});
  const capabilities: BackendCapabilities = {
    description: `postgres ${redactUrl(options.url)}`,
    withoutRowId: false,
    shared: true,
  };
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db, capabilities, { mustExist: options.mustExist });
  } catch (error) {
    await db.destroy();
    throw error;
  }

  const partitions = Array.from({ length: FOLD_PARTITIONS }, (_, partition) => partition);
  const lockCatalog = (tx: Kysely<Database>) =>
    sql`select value from meta where key = 'catalog_version' for update`.execute(tx);

  const groupCommit = new GroupCommit<IngestBatch, IngestOutcome>(
    (batches) => withRetry(() => db.transaction().execute((tx) => appendPostgresGroup(tx, batches))),
    // As many groups at once as leave a connection free for reads.
    {
      maxPerGroup: MAX_EVENTS_PER_GROUP,
      maxConcurrentGroups: Math.max(1, maxConnections - 2),
      sizeOf: (batch) => batch.events.length,
    },
  );

  return {
    capabilities,
    repository: new Repository(db),

    transaction: (work, options) =>
      withRetry(() =>
        db.transaction().execute(async (tx) => {
          if (options?.exclusiveCatalog) await lockCatalog(tx);
          // After the catalog lock: appends validated against the old catalog have committed.
          if (options?.freshAggregates || options?.exclusiveCatalog) {
            await lockAllPartitions(tx);
            for (let partition = 0; partition < FOLD_PARTITIONS; partition += 1) {
              const fold = () =>
                foldPostgres(tx, { partition, maxEvents: DRAIN_EVENTS_PER_FOLD, wait: true });
              while ((await fold()).rows > 0);
            }
          }
          return work(new Repository(tx));
        }),
      ),

    ingest: (batch: IngestBatch): Promise<IngestOutcome> => groupCommit.submit(batch),

    appendAudit: auditGroupCommit((records) =>
      withRetry(() => db.transaction().execute((tx) => new Repository(tx).audit.append(records))),
    ),

    // Every partition at once, each in its own transaction on its own connection: a partition
    // that another node is folding is left to it.
    fold: async (maxEvents) => {
      const folds = await Promise.all(
        partitions.map((partition) =>
          withRetry(() =>
            db.transaction().execute((tx) => foldPostgres(tx, { partition, maxEvents, wait: false })),
          ),
        ),
      );
      return {
        rows: folds.reduce((sum, fold) => sum + fold.rows, 0),
        events: folds.reduce((sum, fold) => sum + fold.events, 0),
      };
    },

    async freshAggregates() {
      // Up to the position at the call; an append committed earlier is visible by then. Rows
      // committed later may carry lower positions (sequence order is not commit order): they
      // were not acknowledged before the call, and the next fold takes them. Only the
      // partitions that hold rows; an empty journal (folded rows are deleted) takes no lock.
      const { partitions: pending, upTo } = await journalPositions(db);
      await Promise.all(
        pending.map(async (partition) => {
          const drain = () =>
            withRetry(() =>
              db
                .transaction()
                .execute((tx) =>
                  foldPostgres(tx, { partition, maxEvents: DRAIN_EVENTS_PER_FOLD, upTo, wait: true }),
                ),
            );
          while ((await drain()).rows > 0);
        }),
      );
    },

    journalBacklog: () => postgresJournalBacklog(db),

    forgetEventIds: (receivedBefore, horizon) =>
      db.transaction().execute((tx) => new Repository(tx).retention.forgetEventIds(receivedBefore, horizon)),

    async close() {
      await db.destroy();
    },
  };
}

async function withRetry<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= MAX_ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres (unparseable url)';
  }
}
