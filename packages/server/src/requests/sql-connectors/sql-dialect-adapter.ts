import type { ConnectorType } from '@lethe/api';
import type { Kysely, RawBuilder, SqlBool } from 'kysely';
import type { CatalogKeys } from './catalog-keys.js';
import type { CatalogColumns, Comparison } from './column-types.js';

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
 * the catalog's column types, how to bound a statement's time, case-sensitive equality, membership in a (large) set of values,
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
  /**
   * `column IN values` for a non-empty list of values, however long, already converted to the
   * column's type (typed-values.ts) and compared as `comparison` says: in that type, or (`as-text`)
   * the column's text with text values.
   */
  inValues(
    column: RawBuilder<unknown>,
    values: readonly unknown[],
    comparison: Comparison,
  ): RawBuilder<SqlBool>;
  /** The column's value as text (for a comparison with text of a column of another type). */
  textOf(column: RawBuilder<unknown>): RawBuilder<string>;
  /**
   * The declared types of the columns of `tables` (the config's names, `schema.table` or bare, as
   * the connector's statements resolve them), read from the catalog in one go at the start of a
   * run. A table the catalog does not show (missing, or not visible to the user) is absent.
   */
  readColumns(db: Kysely<UntypedDatabase>, tables: readonly string[]): Promise<CatalogColumns>;
  /**
   * The unique keys (PRIMARY KEY, UNIQUE, unique indexes: whole, non-partial, on columns) and the
   * NOT NULL columns of `tables`, resolved as `readColumns` resolves them; checked when a connector
   * is saved and at the start of every run (catalog-check.ts).
   */
  readKeys(db: Kysely<UntypedDatabase>, tables: readonly string[]): Promise<CatalogKeys>;
  /**
   * Where the database has cursors inside a transaction: the rows of `query` in pages of at most
   * `pageSize`, through one cursor (one statement, one scan, planned for all its rows), closed at
   * the end. Absent: the engine reads keyset pages (paged-rows.ts).
   */
  cursorPages?(
    db: Kysely<UntypedDatabase>,
    query: RawBuilder<Readonly<Record<string, unknown>>>,
    pageSize: number,
  ): AsyncGenerator<Readonly<Record<string, unknown>>[]>;
  /** Whether a driver error may go away when the run is tried again. */
  isRetryable(error: unknown): boolean;
}
