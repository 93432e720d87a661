import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { GroupCommit } from '../group-commit.js';
import { migrateToLatest } from '../migrate.js';
import { Repository } from '../repository.js';
import type { Database } from '../schema.js';
import type { BackendCapabilities, IngestBatch, IngestOutcome, Store } from '../store.js';
import { ingestPostgresGroup } from './postgres-ingest.js';

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

  const lockCatalog = (tx: Kysely<Database>, mode: 'share' | 'update') =>
    sql<{ value: string }>`select value from meta where key = 'catalog_version' for ${sql.raw(mode)}`.execute(
      tx,
    );

  const groupCommit = new GroupCommit(
    (batches) =>
      withRetry(() =>
        db.transaction().execute(async (tx) => {
          // A shared lock on the catalog row: other nodes' groups may run at once, but never
          // while a policy change recomputes expiries with a new retention.
          const { rows } = await lockCatalog(tx, 'share');
          return ingestPostgresGroup(tx, batches, Number(rows[0]?.value));
        }),
      ),
    // As many groups at once as leave a connection free for reads.
    { maxEventsPerGroup: MAX_EVENTS_PER_GROUP, maxConcurrentGroups: Math.max(1, maxConnections - 2) },
  );

  return {
    capabilities,
    repository: new Repository(db),

    transaction: (work, options) =>
      withRetry(() =>
        db.transaction().execute(async (tx) => {
          if (options?.exclusiveCatalog) await lockCatalog(tx, 'update');
          return work(new Repository(tx));
        }),
      ),

    ingest: (batch: IngestBatch): Promise<IngestOutcome> => groupCommit.submit(batch),

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

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres (unparseable url)';
  }
}
