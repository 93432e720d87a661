import type { ConnectorInput } from '@lethe/api';
import type { Kysely } from 'kysely';
import type { CatalogColumns, ColumnType, ColumnTypeOf } from './column-types.js';
import { SqlConnectorError } from './sql-connector-error.js';
import type { SqlDialectAdapter, UntypedDatabase } from './sql-dialect-adapter.js';
import { splitReference } from './table-plan.js';

/**
 * What a config names that the database's catalog does not hold: tables, then the columns the
 * connector uses (primary key, tagged columns, both ends of each link), each with where the config
 * names it. Checked at the start of every run, before any row is read, so that a renamed column
 * stops the run with its name rather than failing a statement halfway through.
 */
export function missingFromCatalog(config: ConnectorInput, catalog: CatalogColumns): string[] {
  const missing: string[] = [];
  const absentTables = new Set<string>();
  config.tables.forEach((table, t) => {
    if (!catalog.hasTable(table.name)) {
      absentTables.add(table.name);
      missing.push(`table '${table.name}' (tables[${t}])`);
    }
  });
  const check = (table: string, column: string, where: string) => {
    if (absentTables.has(table) || catalog.type(table, column) !== undefined) return;
    missing.push(`column '${column}' of table '${table}' (${where})`);
  };
  config.tables.forEach((table, t) => {
    const at = `tables[${t}]`;
    table.primaryKey.forEach((column, k) => check(table.name, column, `${at}.primaryKey[${k}]`));
    for (const column of Object.keys(table.columns)) check(table.name, column, `${at}.columns.${column}`);
    (table.links ?? []).forEach((link, l) => {
      check(table.name, link.column, `${at}.links[${l}].column`);
      const target = splitReference(link.references);
      if (target !== undefined) check(target.table, target.column, `${at}.links[${l}].references`);
    });
  });
  return missing;
}

/** A column the catalog did not list (never, once checked): compared as its values come. */
const UNKNOWN_TYPE: ColumnType = { kind: 'any', declared: '' };

/**
 * The configured columns' types, read once from the catalog; a table or column the config names
 * and the database lacks stops the run here, before any row is read, naming each one.
 */
export async function checkedColumnTypes(
  name: string,
  config: ConnectorInput,
  adapter: SqlDialectAdapter,
  connection: Kysely<UntypedDatabase>,
): Promise<ColumnTypeOf> {
  const catalog = await adapter.readColumns(
    connection,
    config.tables.map((table) => table.name),
  );
  const missing = missingFromCatalog(config, catalog);
  if (missing.length > 0) {
    throw new SqlConnectorError(
      `connector ${name}: the database has no ${missing.join(', no ')} ` +
        `(or the connection's user cannot see them); nothing was read or changed`,
      false,
    );
  }
  return (table, column) => catalog.type(table, column) ?? UNKNOWN_TYPE;
}
