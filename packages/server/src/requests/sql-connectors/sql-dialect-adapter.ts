import type { ConnectorType } from '@lethe/api';
import type { Kysely, RawBuilder, SqlBool } from 'kysely';

/** The connector reads and writes tables it only knows by name: queries are raw `sql` templates. */
export type UntypedDatabase = Record<string, Record<string, unknown>>;

export interface ConnectionSettings {
  /** A DSAR: SQLite opens the file read-only. */
  readonly readOnly: boolean;
  readonly connectTimeoutMs: number;
  /** SQLite: how long to wait for a locked database. */
  readonly busyTimeoutMs: number;
}

/**
 * What differs between the databases, and nothing else: how to connect, how a transaction starts,
 * how to bound a statement's time, case-sensitive equality, membership in a (large) set of values,
 * and which errors are worth a retry. The engine never asks which database it talks to.
 */
export interface SqlDialectAdapter {
  readonly type: ConnectorType;
  /** One connection for one run; the caller destroys the Kysely when the run ends. */
  open(url: string, settings: ConnectionSettings): Promise<Kysely<UntypedDatabase>>;
  /** Starts the run's transaction on `db` (a single connection): a stable snapshot, read-only for a DSAR. */
  begin(db: Kysely<UntypedDatabase>, readOnly: boolean): Promise<void>;
  /** Bounds every later statement of the transaction to `ms` (where the database can). */
  limitStatementTime(db: Kysely<UntypedDatabase>, ms: number): Promise<void>;
  /** `column = value`, byte for byte, whatever the column's collation. */
  caseSensitiveEquals(column: RawBuilder<unknown>, value: string): RawBuilder<SqlBool>;
  /** `column IN values` for a non-empty list of driver-returned values, however long. */
  inValues(column: RawBuilder<unknown>, values: readonly unknown[]): RawBuilder<SqlBool>;
  /** Whether a driver error may go away when the run is tried again. */
  isRetryable(error: unknown): boolean;
}
