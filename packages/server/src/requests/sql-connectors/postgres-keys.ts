import { sql, type Kysely } from 'kysely';
import { CatalogKeys } from './catalog-keys.js';
import { splitTableName } from './column-types.js';
import type { UntypedDatabase } from './sql-dialect-adapter.js';

interface KeyRow {
  readonly columns: string[] | null;
}
interface NotNullRow {
  readonly attname: string;
}

/**
 * PostgreSQL: the unique indexes of each table (pg_index: primary keys and UNIQUE constraints
 * are backed by one) that are valid, not partial and on plain columns; and its NOT NULL columns.
 * The table resolves as the connector's statements resolve it (`to_regclass`, search path).
 */
export async function readPostgresKeys(
  db: Kysely<UntypedDatabase>,
  tables: readonly string[],
): Promise<CatalogKeys> {
  const keys = new CatalogKeys(false);
  for (const name of tables) {
    const { schema, table } = splitTableName(name);
    const regclass =
      schema === undefined
        ? sql`to_regclass(quote_ident(${table}))`
        : sql`to_regclass(quote_ident(${schema}) || '.' || quote_ident(${table}))`;
    const unique = await sql<KeyRow>`select array(
          select a.attname::text from unnest(i.indkey) with ordinality as k(attnum, n)
          join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.n
        ) as columns
      from pg_index i
      where i.indrelid = ${regclass} and i.indisunique and i.indisvalid
        and i.indpred is null and i.indexprs is null`.execute(db);
    for (const row of unique.rows) keys.addUnique(name, row.columns ?? []);
    const notNull = await sql<NotNullRow>`select a.attname::text as attname from pg_attribute a
      where a.attrelid = ${regclass} and a.attnum > 0 and not a.attisdropped and a.attnotnull`.execute(db);
    for (const row of notNull.rows) keys.addNotNull(name, row.attname);
  }
  return keys;
}
