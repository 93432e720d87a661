import { Kysely, sql, SqliteDialect } from 'kysely';
import { readSqliteKeys } from './sqlite-keys.js';
import type { ConnectionSettings, SqlDialectAdapter, UntypedDatabase } from './sql-dialect-adapter.js';
import { sqlitePath } from './connection-url.js';
import { errorCode, SqlConnectorError } from './sql-connector-error.js';
import { CatalogColumns, splitTableName, sqliteColumnType, withFacts } from './column-types.js';

/** Locked or busy database: another connection holds a lock. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);
/** SQLite's default limit of bound parameters per statement (32,766), with room for the rest of the query. */
const MAX_LISTED_VALUES = 30_000;

/**
 * SQLite (better-sqlite3). The file must exist; a DSAR opens it read-only. Foreign keys declared
 * in the schema are enforced (`PRAGMA foreign_keys = ON`), as the other databases do. SQLite has
 * no statement timeout: `statementTimeoutMs` bounds the wait for a locked database instead.
 */
export const sqliteAdapter: SqlDialectAdapter = {
  type: 'sqlite',

  async open(url: string, settings: ConnectionSettings) {
    const path = sqlitePath(url);
    if (path === '')
      throw new SqlConnectorError('a sqlite connection string needs a file: sqlite:/path/to/file.db', false);
    const { default: BetterSqlite3 } = await import('better-sqlite3');
    const database = new BetterSqlite3(path, {
      fileMustExist: true,
      readonly: settings.readOnly,
      timeout: settings.busyTimeoutMs,
    });
    // Integers as bigint: the engine turns safe ones back into numbers, and no key is ever rounded.
    database.defaultSafeIntegers(true);
    database.pragma('foreign_keys = ON');
    return new Kysely<UntypedDatabase>({ dialect: new SqliteDialect({ database }) });
  },

  async begin(db, readOnly) {
    // A writer takes the write lock at once rather than failing to upgrade a read lock later.
    await (readOnly ? sql`begin` : sql`begin immediate`).execute(db);
  },

  async limitStatementTime() {},

  caseSensitiveEquals: (column, value) => sql<boolean>`${column} = ${value} collate binary`,

  inValues(column, values, comparison) {
    if (comparison === 'as-text') column = sql`cast(${column} as text)`;
    const json = jsonArray(values);
    if (json !== undefined) return sql<boolean>`${column} in (select value from json_each(${json}))`;
    if (values.length > MAX_LISTED_VALUES) {
      throw new SqlConnectorError(
        `more than ${MAX_LISTED_VALUES} binary linking values for one column`,
        false,
      );
    }
    return sql<boolean>`${column} in (${sql.join(values)})`;
  },

  textOf: (column) => sql<string>`cast(${column} as text)`,

  async readColumns(db, tables) {
    const catalog = new CatalogColumns(true);
    for (const name of tables) {
      const { schema, table } = splitTableName(name);
      // Without a schema, SQLite looks the table up in main, then temp, then attached databases.
      const { rows } = await (
        schema === undefined
          ? sql<PragmaColumn>`select name, type, "notnull" as not_null from pragma_table_xinfo(${table})`
          : sql<PragmaColumn>`select name, type, "notnull" as not_null from pragma_table_xinfo(${table}, ${schema})`
      )
        .execute(db)
        .catch(() => ({ rows: [] as PragmaColumn[] })); // an unknown schema: the table is missing
      // SQLite declares no length (a VARCHAR(20) holds any text): none is assumed.
      for (const row of rows)
        catalog.add(
          name,
          row.name,
          withFacts(sqliteColumnType(row.type), Number(row.not_null) === 0, undefined),
        );
    }
    return catalog;
  },

  readKeys: readSqliteKeys,

  isRetryable(error) {
    const code = errorCode(error);
    return code !== undefined && [...RETRYABLE_CODES].some((retryable) => code.startsWith(retryable));
  },
};

interface PragmaColumn {
  readonly name: string;
  readonly type: string;
  readonly not_null: number | bigint;
}

/**
 * The values as one JSON array parameter, or undefined if one of them cannot be JSON (bytes).
 * A value read from json_each has no type affinity, so `'5'` would not equal `5` as it does with a
 * bound parameter: numbers are also given as text, integer texts also as numbers; bytes fall back
 * to a list of parameters.
 */
function jsonArray(values: readonly unknown[]): string | undefined {
  const items: string[] = [];
  for (const value of values) {
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') {
      items.push(String(value), JSON.stringify(String(value)));
    } else if (typeof value === 'string') {
      items.push(JSON.stringify(value));
      if (/^-?(0|[1-9][0-9]{0,17})$/.test(value)) items.push(value);
    } else {
      return undefined;
    }
  }
  return `[${items.join(',')}]`;
}
