import { Kysely, MysqlDialect, sql } from 'kysely';
import type { ConnectionSettings, SqlDialectAdapter, UntypedDatabase } from './sql-dialect-adapter.js';
import { errorCode, RETRYABLE_NETWORK_CODES } from './sql-connector-error.js';

/**
 * Errors worth a retry: deadlock, lock wait timeout, statement timeouts (MySQL 3024, MariaDB
 * 1969), too many connections, lost or killed connections.
 */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_QUERY_TIMEOUT',
  'ER_STATEMENT_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);
const RETRYABLE_ERRNOS: ReadonlySet<number> = new Set([
  1213, 1205, 3024, 1969, 1040, 1317, 1927, 1053, 2006, 2013,
]);

/** MySQL and MariaDB (mysql2). Parameters are interpolated by the client, so a value list has no placeholder limit. */
export const mysqlAdapter: SqlDialectAdapter = {
  type: 'mysql',

  async open(url: string, settings: ConnectionSettings) {
    const { default: mysql } = await import('mysql2');
    const pool = mysql.createPool({
      uri: url,
      connectionLimit: 1,
      connectTimeout: settings.connectTimeoutMs,
      // Exact integers (a number when safe, else its digits); dates as stored, not shifted to a zone.
      supportBigNumbers: true,
      bigNumberStrings: false,
      dateStrings: true,
      charset: 'utf8mb4',
    });
    return new Kysely<UntypedDatabase>({ dialect: new MysqlDialect({ pool }) });
  },

  async begin(db, readOnly) {
    await sql`set transaction isolation level repeatable read`.execute(db);
    await (
      readOnly
        ? sql`start transaction with consistent snapshot, read only`
        : sql`start transaction with consistent snapshot`
    ).execute(db);
  },

  async limitStatementTime(db, ms) {
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    await sql`set session innodb_lock_wait_timeout = ${seconds}`.execute(db);
    try {
      await sql`set session max_statement_time = ${ms / 1000}`.execute(db); // MariaDB: seconds, any statement
    } catch {
      await sql`set session max_execution_time = ${Math.ceil(ms)}`.execute(db); // MySQL: milliseconds, reads only
    }
  },

  // The default collations compare case-insensitively: keep the plain comparison (it can use an
  // index) and add a binary one that decides.
  caseSensitiveEquals: (column, value) =>
    sql<boolean>`(${column} = ${value} and ${column} = ${value} collate utf8mb4_bin)`,

  inValues: (column, values) => sql<boolean>`${column} in (${sql.join(values)})`,

  isRetryable(error) {
    const code = errorCode(error);
    const errno = (error as { errno?: unknown } | null)?.errno;
    return (
      (code !== undefined && (RETRYABLE_CODES.has(code) || RETRYABLE_NETWORK_CODES.has(code))) ||
      (typeof errno === 'number' && RETRYABLE_ERRNOS.has(errno))
    );
  },
};
