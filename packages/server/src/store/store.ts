import type { AuditRecord } from '../audit/audit-chain.js';
import type { AcceptedEvent } from '../retention/usage-batch.js';
import type { Repository } from './repository.js';

/**
 * What differs between backends, stated as facts the shared code can ask about instead of
 * checking which backend it runs on.
 */
export interface BackendCapabilities {
  /** Human-readable description for logs and `/readyz`, e.g. "sqlite ./lethe-data/lethe.db". */
  readonly description: string;
  /** SQLite only: composite-key tables are stored `WITHOUT ROWID` (one B-tree instead of two). */
  readonly withoutRowId: boolean;
  /** Several API processes may share this store (PostgreSQL), so caches must be revalidated. */
  readonly shared: boolean;
}

export interface IngestBatch {
  /** The catalog version the events were validated against. */
  readonly catalogVersion: number;
  readonly events: readonly AcceptedEvent[];
  readonly receivedAt: number;
  /** Who published the batch; appended to the audit log in the same transaction as the events. */
  readonly audit: AuditRecord;
}

export type IngestOutcome =
  /** Policies or systems changed since validation; validate again with a fresh catalog. */
  | { readonly kind: 'stale-catalog' }
  /** Committed durably; `duplicates` are indexes into `events` whose id had been seen before. */
  | { readonly kind: 'committed'; readonly duplicates: readonly number[] };

/**
 * The store: one interface, one folder per backend (`sqlite/`, `postgres/`), one conformance
 * suite (`test/store-conformance.test.ts`). Everything but the ingest hot path is shared SQL
 * written with Kysely in the features' query classes, which `Repository` gathers.
 */
export interface Store {
  readonly capabilities: BackendCapabilities;
  /** Queries outside a transaction. */
  readonly repository: Repository;
  /**
   * Runs `work` in one transaction. On PostgreSQL it holds a lock that makes concurrent ingest wait
   * when `exclusiveCatalog` is set, so expiries are never computed with a retention being replaced.
   */
  transaction<T>(
    work: (repository: Repository) => Promise<T>,
    options?: { exclusiveCatalog?: boolean },
  ): Promise<T>;
  /** Applies one validated batch of usage events in one durable transaction (the hot path). */
  ingest(batch: IngestBatch): Promise<IngestOutcome>;
  close(): Promise<void>;
}
