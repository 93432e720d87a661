import { sql, type Kysely } from 'kysely';
import { CatalogKeys } from './catalog-keys.js';
import { splitTableName } from './column-types.js';
import type { UntypedDatabase } from './sql-dialect-adapter.js';

interface StatisticsRow {
  readonly table_schema: string;
  readonly table_name: string;
  readonly index_name: string;
  readonly column_name: string | null;
  readonly sub_part: unknown;
  readonly is_current: unknown;
}
interface ColumnRow {
  readonly table_schema: string;
  readonly table_name: string;
  readonly column_name: string;
  readonly is_current: unknown;
}

/**
 * MySQL/MariaDB: the unique indexes of each table (information_schema.statistics, `non_unique =
 * 0`: the PRIMARY KEY and UNIQUE keys) whose every part is a whole column (a prefix or an
 * expression does not make the column unique); and its NOT NULL columns. A bare table name is in
 * the connection's database, as the connector's statements resolve it.
 */
export async function readMysqlKeys(
  db: Kysely<UntypedDatabase>,
  tables: readonly string[],
): Promise<CatalogKeys> {
  const names = tables.map(splitTableName);
  const schemas = names.flatMap((name) => name.schema ?? []);
  const inTables = sql`table_name in (${sql.join(names.map((name) => name.table))})
    and (table_schema = database()${schemas.length > 0 ? sql` or table_schema in (${sql.join(schemas)})` : sql``})`;
  const statistics = await sql<StatisticsRow>`select table_schema as table_schema, table_name as table_name,
      index_name as index_name, column_name as column_name, sub_part as sub_part,
      (table_schema = database()) as is_current
    from information_schema.statistics where non_unique = 0 and ${inTables}
    order by table_schema, table_name, index_name, seq_in_index`.execute(db);
  const columns = await sql<ColumnRow>`select table_schema as table_schema, table_name as table_name,
      column_name as column_name, (table_schema = database()) as is_current
    from information_schema.columns where is_nullable = 'NO' and ${inTables}`.execute(db);
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const keys = new CatalogKeys(true);
  tables.forEach((name, index) => {
    const { schema, table } = names[index] as ReturnType<typeof splitTableName>;
    const ofTable = (row: { table_schema: string; table_name: string; is_current: unknown }) =>
      (schema === undefined ? Number(row.is_current) === 1 : same(row.table_schema, schema)) &&
      same(row.table_name, table);
    const indexes = new Map<string, { columns: string[]; whole: boolean }>();
    for (const row of statistics.rows.filter(ofTable)) {
      const entry = indexes.get(row.index_name) ?? { columns: [], whole: true };
      if (row.column_name === null || row.sub_part !== null) entry.whole = false;
      else entry.columns.push(row.column_name);
      indexes.set(row.index_name, entry);
    }
    for (const entry of indexes.values()) if (entry.whole) keys.addUnique(name, entry.columns);
    for (const row of columns.rows.filter(ofTable)) keys.addNotNull(name, row.column_name);
  });
  return keys;
}
