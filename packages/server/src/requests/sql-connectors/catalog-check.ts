import type { ConnectorInput } from '@lethe/api';
import type { Kysely } from 'kysely';
import type { CatalogKeys } from './catalog-keys.js';
import type { CatalogColumns, ColumnType, ColumnTypeOf } from './column-types.js';
import type { ConfigProblem } from './connector-config.js';
import { SqlConnectorError } from './sql-connector-error.js';
import type { SqlDialectAdapter, UntypedDatabase } from './sql-dialect-adapter.js';
import { linkPlan, splitReference } from './table-plan.js';

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

/**
 * What the database's keys do not guarantee that the engine relies on: a table's configured
 * primary key is unique (some PRIMARY KEY or UNIQUE key lies within its columns) and never NULL,
 * since rows are read page by page on it and a duplicate or NULL key skips rows; and the column a
 * link walks UP to (the parent's) is unique, so that a walk up from one row reaches one row, not
 * other people's. Tables and columns the catalog lacks are `missingFromCatalog`'s, not repeated.
 */
export function keyProblems(
  config: ConnectorInput,
  catalog: CatalogColumns,
  keys: CatalogKeys,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const present = (table: string, columns: readonly string[]) =>
    catalog.hasTable(table) && columns.every((column) => catalog.type(table, column) !== undefined);
  const primaryKeys = new Map(config.tables.map((table) => [table.name, table.primaryKey]));
  config.tables.forEach((table, t) => {
    if (!present(table.name, table.primaryKey)) return;
    if (!keys.isUnique(table.name, table.primaryKey)) {
      problems.push({
        path: `tables[${t}].primaryKey`,
        message:
          `(${table.primaryKey.join(', ')}) is no PRIMARY KEY or UNIQUE key of table '${table.name}' in the database: ` +
          `rows are read page by page on it, and rows sharing a key would be skipped`,
      });
    }
    table.primaryKey.forEach((column, k) => {
      if (keys.isNotNull(table.name, column)) return;
      problems.push({
        path: `tables[${t}].primaryKey[${k}]`,
        message: `column '${column}' of table '${table.name}' is not NOT NULL in the database: a row whose key is NULL would never be read`,
      });
    });
  });
  config.tables.forEach((table, t) => {
    (table.links ?? []).forEach((link, l) => {
      const target = splitReference(link.references);
      if (target === undefined) return;
      const plan = linkPlan(table.name, link, target, (name) => primaryKeys.get(name));
      if (!plan.up || !present(plan.parent, [plan.parentColumn])) return;
      if (keys.isUnique(plan.parent, [plan.parentColumn])) return;
      const declaring = plan.parent === table.name && plan.parentColumn === link.column;
      problems.push({
        path: `tables[${t}].links[${l}].${declaring ? 'column' : 'references'}`,
        message:
          `column '${plan.parentColumn}' of table '${plan.parent}' has no PRIMARY KEY or UNIQUE key of its own in the ` +
          `database: a walk up this link from one row could reach several rows (other people's)`,
      });
    });
  });
  return problems;
}

/** Every way `config` does not fit the database: missing tables and columns, then keys. */
export function catalogProblems(
  config: ConnectorInput,
  catalog: CatalogColumns,
  keys: CatalogKeys,
): ConfigProblem[] {
  return [
    ...missingFromCatalog(config, catalog).map((missing) => {
      const open = missing.lastIndexOf(' (');
      return { path: missing.slice(open + 2, -1), message: `the database has no ${missing.slice(0, open)}` };
    }),
    ...keyProblems(config, catalog, keys),
  ];
}

/** A column the catalog did not list (never, once checked): compared as its values come. */
const UNKNOWN_TYPE: ColumnType = { kind: 'any', declared: '' };

/**
 * The configured columns' types, read once from the catalog; a table or column the config names
 * and the database lacks, or a key it does not guarantee (`keyProblems`), stops the run here,
 * before any row is read, naming each one.
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
  const keys = keyProblems(
    config,
    catalog,
    await adapter.readKeys(
      connection,
      config.tables.map((table) => table.name),
    ),
  );
  if (keys.length > 0) {
    throw new SqlConnectorError(
      `connector ${name}: the database's keys do not fit the config: ` +
        `${keys.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}; nothing was read or changed`,
      false,
    );
  }
  return (table, column) => catalog.type(table, column) ?? UNKNOWN_TYPE;
}
