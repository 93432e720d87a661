import { Kysely, PostgresDialect, sql } from 'kysely';
import { readPostgresKeys } from './postgres-keys.js';
import type { ConnectionSettings, SqlDialectAdapter, UntypedDatabase } from './sql-dialect-adapter.js';
import { errorCode, RETRYABLE_NETWORK_CODES } from './sql-connector-error.js';
import { CatalogColumns, postgresColumnType, splitTableName, withFacts } from './column-types.js';

const INT8_OID = 20;
/** Cursors are named `__lethe_rows_<n>`: a read abandoned by an error never clashes with the next. */
let cursors = 0;
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

  async *cursorPages(db, query, pageSize) {
    // Planned for all its rows, not the first 10% (cursor_tuple_fraction's default), which favours
    // walking the primary key's order over a bitmap scan of the matches and a sort; the run reads
    // every row of the cursor. Local to the transaction, like the cursor.
    const cursor = sql.id(`__lethe_rows_${(cursors = (cursors + 1) % Number.MAX_SAFE_INTEGER)}`);
    await sql`select set_config('cursor_tuple_fraction', '1', true)`.execute(db);
    await sql`declare ${cursor} no scroll cursor for ${query}`.execute(db);
    for (;;) {
      const { rows } = await sql<Readonly<Record<string, unknown>>>`fetch forward ${sql.raw(
        String(Math.trunc(pageSize)),
      )} from ${cursor}`.execute(db);
      if (rows.length > 0) yield rows;
      if (rows.length < pageSize) break;
    }
    await sql`close ${cursor}`.execute(db);
  },

  caseSensitiveEquals: (column, value) => sql<boolean>`${column} = ${value}`,

  // One array parameter whatever the number of values; PostgreSQL types it after the column, and
  // the values are already of that type (typed-values.ts), so none fails to parse.
  inValues: (column, values, comparison) =>
    comparison === 'as-text'
      ? sql<boolean>`${column}::text = any(${values.map(arrayElement)}::text[])`
      : sql<boolean>`${column} = any(${values.map(arrayElement)})`,

  textOf: (column) => sql<string>`${column}::text`,

  async readColumns(db, tables) {
    const names = tables.map(splitTableName);
    // A bare name resolves through the search path: the first schema on it holding the table.
    const { rows } =
      await sql<CatalogRow>`select c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type::text,
        c.udt_name::text, c.is_nullable::text, c.character_maximum_length, array_position(current_schemas(false)::text[], c.table_schema::text) as search_position
      from information_schema.columns c
      where c.table_name::text = any(${names.map((name) => name.table)}::text[])
        and (c.table_schema::text = any(current_schemas(false)::text[])
          or c.table_schema::text = any(${names.flatMap((name) => name.schema ?? [])}::text[]))
      order by c.ordinal_position`.execute(db);
    const catalog = new CatalogColumns(false);
    tables.forEach((name, index) => {
      const { schema, table } = names[index] as ReturnType<typeof splitTableName>;
      const candidates = rows.filter((row) => row.table_name === table);
      const chosen =
        schema ??
        candidates
          .filter((row) => row.search_position !== null)
          .sort((a, b) => Number(a.search_position) - Number(b.search_position))[0]?.table_schema;
      for (const row of candidates) {
        if (row.table_schema === chosen)
          catalog.add(
            name,
            row.column_name,
            withFacts(
              postgresColumnType(row.data_type, row.udt_name),
              row.is_nullable === 'YES',
              row.character_maximum_length,
            ),
          );
      }
    });
    return catalog;
  },

  readKeys: readPostgresKeys,

  isRetryable(error) {
    const code = errorCode(error);
    if (code !== undefined)
      return RETRYABLE_STATES.has(code) || code.startsWith('08') || RETRYABLE_NETWORK_CODES.has(code);
    // pg's own connection failures carry no code.
    const message = error instanceof Error ? error.message : '';
    return /timeout|terminated|Connection ended|ECONNRESET/i.test(message);
  },
};

interface CatalogRow {
  readonly table_schema: string;
  readonly table_name: string;
  readonly column_name: string;
  readonly data_type: string;
  readonly udt_name: string;
  readonly is_nullable: string;
  readonly character_maximum_length: number | null;
  readonly search_position: number | null;
}

/** pg writes array elements with `toString()`: give it the text PostgreSQL expects. */
function arrayElement(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
