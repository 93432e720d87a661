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
  /**
   * Committed durably to the usage journal. `duplicates` are indexes into `events` whose id had
   * been seen before; `forgotten` are indexes of events carrying an id whose time lies before
   * the event-id horizon (ids received before it may have been forgotten, so such an event
   * cannot be told from a retry): they were not stored.
   */
  | {
      readonly kind: 'committed';
      readonly duplicates: readonly number[];
      readonly forgotten: readonly number[];
    };

/** What one fold of the usage journal applied. */
export interface FoldResult {
  readonly rows: number;
  readonly events: number;
}

/** The journal entries not folded yet. */
export interface JournalBacklog {
  readonly rows: number;
  readonly events: number;
  /** Epoch ms the oldest of them was appended; undefined when the journal is empty. */
  readonly oldestAt: number | undefined;
}

export interface TransactionOptions {
  /**
   * For catalog changes. PostgreSQL: hold a lock that makes concurrent ingest wait, so expiries
   * are never computed with a retention being replaced. Implies `freshAggregates`: events
   * validated against the catalog being replaced are folded before it changes.
   */
  readonly exclusiveCatalog?: boolean;
  /**
   * Fold the whole usage journal into the aggregates inside this transaction before `work`
   * runs: for changes that read or rewrite usages and expiries (a retention or consent change,
   * an erasure, forgetting a subject), which must see every accepted event and must not have
   * older events folded after them.
   */
  readonly freshAggregates?: boolean;
}

/**
 * The store: one interface, one folder per backend (`sqlite/`, `postgres/`), one conformance
 * suite (`test/store-conformance.test.ts`). Everything but the ingest hot path is shared SQL
 * written with Kysely in the features' query classes, which `Repository` gathers.
 */
export interface Store {
  readonly capabilities: BackendCapabilities;
  /** Queries outside a transaction. */
  readonly repository: Repository;
  /** Runs `work` in one transaction (see `TransactionOptions`). */
  transaction<T>(work: (repository: Repository) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * The hot path: deduplicates one validated batch and appends it to the usage journal with its
   * audit entry, in one durable transaction (group-committed with concurrent batches).
   */
  ingest(batch: IngestBatch): Promise<IngestOutcome>;
  /**
   * Appends one audit entry in a durable transaction of its own, group-committed with concurrent
   * ones: the audit of a read, which must be on disk before the data is served. Resolves once it
   * is; rejects with `AUDIT_FAILED` (its whole group) when it cannot be written.
   */
  appendAudit(record: AuditRecord): Promise<void>;
  /**
   * Folds the oldest journal entries, about `maxEvents` events, into usages, field and subject
   * expiries, usage links and consent violations, in one transaction, and deletes them. Never
   * folds an entry twice. On PostgreSQL, per subject partition: every partition at once, each in
   * its own transaction of up to `maxEvents` events; a partition another node is folding is
   * skipped.
   */
  fold(maxEvents: number): Promise<FoldResult>;
  /**
   * Folds every journal entry committed before the call: reads of the aggregates call it first
   * so that they see every acknowledged event (docs/retention.md, "Exact reads").
   */
  freshAggregates(): Promise<void>;
  journalBacklog(): Promise<JournalBacklog>;
  /**
   * Forgets the event ids received before `receivedBefore`, after moving the event-id horizon to
   * `horizon` (never back), in one transaction; returns how many went. A store method because
   * SQLite keeps the ids beside the journal, in a file of their own.
   */
  forgetEventIds(receivedBefore: number, horizon: number): Promise<number>;
  close(): Promise<void>;
}
