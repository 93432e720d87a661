import { Kysely, PostgresDialect, sql } from 'kysely';
import type { ConnectionSettings, SqlDialectAdapter, UntypedDatabase } from './sql-dialect-adapter.js';
import { errorCode, RETRYABLE_NETWORK_CODES } from './sql-connector-error.js';

const INT8_OID = 20;
const DATE_OID = 1082;
const TIMESTAMP_OID = 1114;

/**
 * SQLSTATEs worth a retry: serialisation failure, deadlock, lock not available, statement
 * timeout / cancel, too many connections, server shutting down; class 08 (connection) too.
 */
const RETRYABLE_STATES: ReadonlySet<string> = new Set([
  '40001',
  '40P01',
  '55P03',
  '57014',
  '53300',
  '57P01',
  '57P03',
]);

export const postgresAdapter: SqlDialectAdapter = {
  type: 'postgres',

  async open(url: string, settings: ConnectionSettings) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: url,
      max: 1,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      types: {
        // Integers stay exact (a number when safe, else its digits); dates and timestamps without a
        // zone stay as stored instead of being read in the server's local time.
        getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
          if (oid === INT8_OID)
            return (text: string) => (Number.isSafeInteger(Number(text)) ? Number(text) : text);
          if (oid === DATE_OID || oid === TIMESTAMP_OID) return (text: string) => text;
          return pg.types.getTypeParser(oid, format) as (text: string) => unknown;
        }) as typeof pg.types.getTypeParser,
      },
    });
    // An idle connection closed by the server emits 'error'; the run's own query reports it.
    pool.on('error', () => {});
    return new Kysely<UntypedDatabase>({ dialect: new PostgresDialect({ pool }) });
  },

  async begin(db, readOnly) {
    await (
      readOnly
        ? sql`start transaction isolation level repeatable read, read only`
        : sql`start transaction isolation level repeatable read`
    ).execute(db);
  },

  async limitStatementTime(db, ms) {
    await sql`select set_config('statement_timeout', ${String(Math.ceil(ms))}, true)`.execute(db);
  },

  caseSensitiveEquals: (column, value) => sql<boolean>`${column} = ${value}`,

  // One array parameter whatever the number of values; PostgreSQL types it after the column.
  inValues: (column, values) => sql<boolean>`${column} = any(${values.map(arrayElement)})`,

  isRetryable(error) {
    const code = errorCode(error);
    if (code !== undefined)
      return RETRYABLE_STATES.has(code) || code.startsWith('08') || RETRYABLE_NETWORK_CODES.has(code);
    // pg's own connection failures carry no code.
    const message = error instanceof Error ? error.message : '';
    return /timeout|terminated|Connection ended|ECONNRESET/i.test(message);
  },
};

/** pg writes array elements with `toString()`: give it the text PostgreSQL expects. */
function arrayElement(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
