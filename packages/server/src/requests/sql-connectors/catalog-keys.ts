/**
 * The unique keys and NOT NULL columns of the configured tables, as the catalog declares them:
 * what makes a configured primary key safe to page on, and a walk up a link reach one row.
 */
export class CatalogKeys {
  readonly #unique = new Map<string, string[][]>();
  readonly #notNull = new Map<string, Set<string>>();

  /** `foldsCase`: column names compare without regard to case (MySQL/MariaDB, SQLite). */
  constructor(readonly foldsCase: boolean) {}

  /**
   * A PRIMARY KEY, UNIQUE constraint or unique index of `table` on exactly `columns` (never a
   * partial one, nor one on expressions or column prefixes: those do not make the columns unique).
   */
  addUnique(table: string, columns: readonly string[]): void {
    let keys = this.#unique.get(table);
    if (keys === undefined) {
      keys = [];
      this.#unique.set(table, keys);
    }
    keys.push(columns.map((column) => this.#key(column)));
  }

  addNotNull(table: string, column: string): void {
    let columns = this.#notNull.get(table);
    if (columns === undefined) {
      columns = new Set();
      this.#notNull.set(table, columns);
    }
    columns.add(this.#key(column));
  }

  /**
   * Whether `columns` together never hold the same values twice: some unique key lies within
   * them (a key on `id` makes `(id, region)` unique too). NULLs are not values here: a unique key
   * lets several rows hold NULL, which `isNotNull` answers for.
   */
  isUnique(table: string, columns: readonly string[]): boolean {
    const wanted = new Set(columns.map((column) => this.#key(column)));
    return (this.#unique.get(table) ?? []).some(
      (key) => key.length > 0 && key.every((column) => wanted.has(column)),
    );
  }

  isNotNull(table: string, column: string): boolean {
    return this.#notNull.get(table)?.has(this.#key(column)) ?? false;
  }

  #key(column: string): string {
    return this.foldsCase ? column.toLowerCase() : column;
  }
}
