import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type SqliteDialectConfig,
} from 'kysely';

/**
 * How long a writer waits for another process (the server, or a CLI command such as
 * `token create`) to release the write lock before SQLite reports "database is locked".
 */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * The one connection setup for every process that opens the store. The busy timeout is passed to
 * the constructor so that it already covers the pragmas below, which may need a lock themselves.
 * WAL with `synchronous=FULL` so that a committed transaction survives power loss (better-sqlite3
 * builds SQLite with WAL defaulting to NORMAL, which does not).
 */
export function openSqliteConnection(file: string): BetterSqlite3.Database {
  const connection = new BetterSqlite3(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = FULL');
  // Checkpoint every 64 MiB of WAL instead of 4 MiB: ingest rewrites the same hot pages in many
  // transactions, and a rarer checkpoint copies each of them to the database file once.
  connection.pragma('wal_autocheckpoint = 16384');
  connection.pragma('foreign_keys = ON');
  connection.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  // 256 MiB of page cache keeps the hot B-trees of a few million subject-fields in memory.
  connection.pragma('cache_size = -262144');
  connection.pragma('temp_store = MEMORY');
  return connection;
}

/**
 * Kysely's SQLite transactions start with a deferred `begin`: a transaction that reads and then
 * writes, while another process committed in between, fails at once with SQLITE_BUSY — SQLite
 * does not call the busy handler when a stale read snapshot cannot be upgraded. `begin immediate`
 * takes the write lock first, so the busy timeout applies and the transaction waits its turn.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
