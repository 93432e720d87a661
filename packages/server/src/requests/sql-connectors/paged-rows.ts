import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { SqlDialectAdapter, UntypedDatabase } from './sql-dialect-adapter.js';

export type Row = Readonly<Record<string, unknown>>;

/** What to read: `select <selections> from <table> where <predicate> order by <primary key>`. */
export interface PagedSelect {
  readonly table: string;
  readonly selections: readonly RawBuilder<unknown>[];
  readonly predicate: RawBuilder<unknown>;
  readonly primaryKey: readonly string[];
  /** The result names of the primary key's columns among the selections, in its order. */
  readonly keyAlias: readonly string[];
}

/**
 * The rows of `select`, in primary-key order, in pages of at most `pageSize`: memory holds one page.
 * Where the database has cursors in a transaction (`adapter.cursorPages`), one statement and one
 * scan, which the planner may run through any index (a bitmap scan of the matches, then a sort);
 * elsewhere keyset pages (`… and (pk) > (last) order by pk limit n`), each its own statement,
 * which PostgreSQL would serve by walking the primary key and filtering every row before the
 * next match: with matches spread over a large table, a walk of the whole table per run.
 */
export async function* pagedRows(
  connection: Kysely<UntypedDatabase>,
  adapter: SqlDialectAdapter,
  select: PagedSelect,
  pageSize: number,
): AsyncGenerator<Row[]> {
  const keyRefs = select.primaryKey.map((column) => sql.ref(column));
  const table = sql.table(select.table);
  if (adapter.cursorPages !== undefined) {
    const query = sql<Row>`select ${sql.join(select.selections)} from ${table}
      where ${select.predicate} order by ${sql.join(keyRefs)}`;
    yield* adapter.cursorPages(connection, query, pageSize);
    return;
  }
  let after: unknown[] | undefined;
  for (;;) {
    const page = after === undefined ? sql`` : sql` and (${sql.join(keyRefs)}) > (${sql.join(after)})`;
    const { rows } = await sql<Row>`select ${sql.join(select.selections)} from ${table}
      where ${select.predicate}${page} order by ${sql.join(keyRefs)} limit ${pageSize}`.execute(connection);
    if (rows.length > 0) yield rows;
    const last = rows.at(-1);
    if (rows.length < pageSize || last === undefined) return;
    after = select.keyAlias.map((alias) => last[alias]);
  }
}
