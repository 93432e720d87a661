import { Kysely, MysqlDialect, sql } from 'kysely';
import { readMysqlKeys } from './mysql-keys.js';
import type { ConnectionSettings, SqlDialectAdapter, UntypedDatabase } from './sql-dialect-adapter.js';
import { errorCode, RETRYABLE_NETWORK_CODES, SqlConnectorError } from './sql-connector-error.js';
import { CatalogColumns, mysqlColumnType, splitTableName, withFacts } from './column-types.js';

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

/** A numeric value written as an SQL literal. */
const NUMERIC_LITERAL = /^-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?$/i;

interface CatalogRow {
  readonly table_schema: string;
  readonly table_name: string;
  readonly column_name: string;
  readonly data_type: string;
  readonly column_type: string;
  readonly is_nullable: string;
  readonly character_maximum_length: unknown;
  readonly is_current: unknown;
}

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

  inValues(column, values, comparison) {
    if (comparison === 'integer' || comparison === 'decimal') {
      // Numbers as literals: a quoted numeral would be compared as a double, and a big key could
      // then equal its neighbour. The values are numerals already (typed-values.ts); checked again.
      const literals = values.map((value) => {
        const text = typeof value === 'bigint' || typeof value === 'number' ? String(value) : value;
        if (typeof text !== 'string' || !NUMERIC_LITERAL.test(text))
          throw new SqlConnectorError(`not a numeric linking value: ${String(text)}`, false);
        return sql.raw(text);
      });
      return sql<boolean>`${column} in (${sql.join(literals)})`;
    }
    if (comparison === 'text' || comparison === 'as-text') {
      // Text linking values compare byte for byte, as on PostgreSQL and SQLite: the default
      // collations would also make 'ab' equal 'AB' and 'ab ' (trailing spaces are padding). The
      // plain comparison can use an index; the binary one decides.
      const target = comparison === 'as-text' ? sql`cast(${column} as char)` : column;
      const list = sql.join(values);
      return sql<boolean>`(${target} in (${list}) and cast(${target} as binary) in (${list}))`;
    }
    return sql<boolean>`${column} in (${sql.join(values)})`;
  },

  textOf: (column) => sql<string>`cast(${column} as char)`,

  async readColumns(db, tables) {
    const names = tables.map(splitTableName);
    const schemas = names.flatMap((name) => name.schema ?? []);
    const { rows } = await sql<CatalogRow>`select table_schema as table_schema, table_name as table_name,
        column_name as column_name, data_type as data_type, column_type as column_type,
        is_nullable as is_nullable, character_maximum_length as character_maximum_length,
        (table_schema = database()) as is_current
      from information_schema.columns
      where table_name in (${sql.join(names.map((name) => name.table))})
        and (table_schema = database()${schemas.length > 0 ? sql` or table_schema in (${sql.join(schemas)})` : sql``})
      order by ordinal_position`.execute(db);
    // Names compare as the catalog's own collation does: without regard to case.
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    const catalog = new CatalogColumns(true);
    tables.forEach((name, index) => {
      const { schema, table } = names[index] as ReturnType<typeof splitTableName>;
      for (const row of rows) {
        const inSchema = schema === undefined ? Number(row.is_current) === 1 : same(row.table_schema, schema);
        if (inSchema && same(row.table_name, table))
          catalog.add(
            name,
            row.column_name,
            withFacts(
              mysqlColumnType(row.data_type, row.column_type),
              row.is_nullable === 'YES',
              row.character_maximum_length,
            ),
          );
      }
    });
    return catalog;
  },

  readKeys: readMysqlKeys,

  isRetryable(error) {
    const code = errorCode(error);
    const errno = (error as { errno?: unknown } | null)?.errno;
    return (
      (code !== undefined && (RETRYABLE_CODES.has(code) || RETRYABLE_NETWORK_CODES.has(code))) ||
      (typeof errno === 'number' && RETRYABLE_ERRNOS.has(errno))
    );
  },
};
