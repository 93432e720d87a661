import { sql, type Kysely } from 'kysely';
import { CatalogKeys } from './catalog-keys.js';
import { splitTableName } from './column-types.js';
import type { UntypedDatabase } from './sql-dialect-adapter.js';

interface IndexRow {
  readonly name: string;
  readonly unique: unknown;
  readonly partial: unknown;
}
interface IndexColumn {
  readonly name: string | null;
}
interface TableColumn {
  readonly name: string;
  readonly type: string;
  readonly notnull: unknown;
  readonly pk: unknown;
}

/**
 * SQLite: the unique indexes of each table (pragma index_list: UNIQUE constraints, a PRIMARY KEY
 * that is not the rowid, CREATE UNIQUE INDEX) that are not partial and on plain columns, and the
 * PRIMARY KEY of table_info (an INTEGER PRIMARY KEY is the rowid: no index lists it). NOT NULL:
 * declared, or an INTEGER PRIMARY KEY (the rowid is never NULL). SQLite lets any other PRIMARY KEY
 * column of a rowid table hold NULL unless it is declared NOT NULL.
 */
export async function readSqliteKeys(
  db: Kysely<UntypedDatabase>,
  tables: readonly string[],
): Promise<CatalogKeys> {
  const keys = new CatalogKeys(true);
  for (const name of tables) {
    const { schema, table } = splitTableName(name);
    // Without a schema, SQLite looks the table up in main, then temp, then attached databases.
    const args = schema === undefined ? sql`${table}` : sql`${table}, ${schema}`;
    const columns = await sql<TableColumn>`select name, type, "notnull", pk from pragma_table_info(${args})`
      .execute(db)
      .catch(() => ({ rows: [] as TableColumn[] }));
    const primary = columns.rows
      .filter((column) => Number(column.pk) > 0)
      .sort((a, b) => Number(a.pk) - Number(b.pk));
    if (primary.length > 0)
      keys.addUnique(
        name,
        primary.map((column) => column.name),
      );
    const rowid = primary.length === 1 && primary[0]?.type.toUpperCase() === 'INTEGER';
    for (const column of columns.rows) {
      if (Number(column.notnull) === 1 || (rowid && Number(column.pk) === 1))
        keys.addNotNull(name, column.name);
    }
    const indexes = await sql<IndexRow>`select name, "unique", partial from pragma_index_list(${args})`
      .execute(db)
      .catch(() => ({ rows: [] as IndexRow[] }));
    for (const index of indexes.rows) {
      if (Number(index.unique) !== 1 || Number(index.partial) === 1) continue;
      const indexArgs = schema === undefined ? sql`${index.name}` : sql`${index.name}, ${schema}`;
      const { rows } = await sql<IndexColumn>`select name from pragma_index_info(${indexArgs})
        order by seqno`.execute(db);
      if (rows.every((row) => row.name !== null))
        keys.addUnique(
          name,
          rows.map((row) => row.name as string),
        );
    }
  }
  return keys;
}
