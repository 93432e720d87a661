/**
 * The type of a configured column, as the database's catalog declares it, reduced to what a
 * comparison needs: a linking value is compared in the type of the column it is searched in, so
 * that one odd value (`'guest-7'` in a text column that references an integer key) reaches nothing
 * on every database instead of failing the run (PostgreSQL) or matching by numeric conversion
 * (MariaDB: `'02'`, `' 2'` and `'2.0'` equal 2).
 */

/**
 * - `integer`, `decimal` (exact or binary floating point), `text`, `uuid`, `binary`: compared as such;
 * - `other` (dates, booleans, enums, JSON...): compared natively with values of the same declared
 *   type, else as text;
 * - `any`: SQLite without affinity (BLOB or no declared type): values go as they are, and compare
 *   as the database compares them (an identifier in a text column: its collation decides).
 *
 * Text compares byte for byte on every database (MySQL/MariaDB's default collations would ignore
 * case and trailing spaces).
 */
export type ColumnKind = 'integer' | 'decimal' | 'text' | 'uuid' | 'binary' | 'other' | 'any';

export interface ColumnType {
  readonly kind: ColumnKind;
  /** As the catalog names it (`integer`, `character varying`, `int(10) unsigned`, `VARCHAR(20)`). */
  readonly declared: string;
  /** `integer`: the values the column can hold. */
  readonly min?: bigint;
  readonly max?: bigint;
  /** `decimal`: binary floating point (real, double), whose range is bounded. */
  readonly float?: boolean;
  /** Whether the column accepts NULL (absent: unknown, taken as yes). Set by the adapters' `readColumns`. */
  readonly nullable?: boolean;
  /** The most characters the column holds; absent when unbounded or unknown (SQLite). */
  readonly maxLength?: number;
}

/** The catalog's nullability and length, added to a column's type. */
export function withFacts(type: ColumnType, nullable: boolean, maxLength: unknown): ColumnType {
  const length = Number(maxLength);
  return {
    ...type,
    nullable,
    ...(maxLength !== null && maxLength !== undefined && Number.isSafeInteger(length) && length > 0
      ? { maxLength: length }
      : {}),
  };
}

/** How a predicate compares: in a column kind, or (a value of another type vs an `other` column) as text. */
export type Comparison = ColumnKind | 'as-text';

const range = (bits: number, unsigned = false): Pick<ColumnType, 'min' | 'max'> =>
  unsigned
    ? { min: 0n, max: 2n ** BigInt(bits) - 1n }
    : { min: -(2n ** BigInt(bits - 1)), max: 2n ** BigInt(bits - 1) - 1n };

const POSTGRES_INTEGERS: Readonly<Record<string, number>> = { smallint: 16, integer: 32, bigint: 64 };
const POSTGRES_TEXT: ReadonlySet<string> = new Set(['text', 'character varying', 'character', 'name']);

/** PostgreSQL: information_schema.columns `data_type` and `udt_name`. */
export function postgresColumnType(dataType: string, udtName: string): ColumnType {
  const bits = POSTGRES_INTEGERS[dataType];
  if (bits !== undefined) return { kind: 'integer', declared: dataType, ...range(bits) };
  if (dataType === 'numeric') return { kind: 'decimal', declared: dataType };
  if (dataType === 'real' || dataType === 'double precision')
    return { kind: 'decimal', declared: dataType, float: true };
  if (POSTGRES_TEXT.has(dataType) || udtName === 'citext') return { kind: 'text', declared: dataType };
  if (dataType === 'uuid') return { kind: 'uuid', declared: dataType };
  if (dataType === 'bytea') return { kind: 'binary', declared: dataType };
  // Enums, domains and other user-defined types by their own name.
  return { kind: 'other', declared: dataType === 'USER-DEFINED' ? udtName : dataType };
}

const MYSQL_INTEGERS: Readonly<Record<string, number>> = {
  tinyint: 8,
  smallint: 16,
  mediumint: 24,
  int: 32,
  integer: 32,
  bigint: 64,
};
const MYSQL_TEXT: ReadonlySet<string> = new Set([
  'char',
  'varchar',
  'tinytext',
  'text',
  'mediumtext',
  'longtext',
  // Compared as their value's text, not their index.
  'enum',
  'set',
]);
const MYSQL_BINARY: ReadonlySet<string> = new Set([
  'binary',
  'varbinary',
  'tinyblob',
  'blob',
  'mediumblob',
  'longblob',
]);

/** MySQL/MariaDB: information_schema.columns `data_type` and `column_type` (`int(10) unsigned`). */
export function mysqlColumnType(dataType: string, columnType: string): ColumnType {
  const type = dataType.toLowerCase();
  const declared = columnType.toLowerCase();
  const bits = MYSQL_INTEGERS[type];
  if (bits !== undefined) return { kind: 'integer', declared, ...range(bits, declared.includes('unsigned')) };
  if (type === 'decimal' || type === 'numeric') return { kind: 'decimal', declared };
  if (type === 'float' || type === 'double' || type === 'real')
    return { kind: 'decimal', declared, float: true };
  if (MYSQL_TEXT.has(type)) return { kind: 'text', declared };
  if (MYSQL_BINARY.has(type)) return { kind: 'binary', declared };
  if (type === 'uuid') return { kind: 'uuid', declared };
  return { kind: 'other', declared };
}

/**
 * SQLite: the declared type's affinity (https://www.sqlite.org/datatype3.html, 3.1), in its order:
 * INT → integer; CHAR, CLOB, TEXT → text; BLOB or none → any; REAL, FLOA, DOUB → float; else NUMERIC.
 */
export function sqliteColumnType(declaredType: string): ColumnType {
  const declared = declaredType.toUpperCase();
  if (declared.includes('INT')) return { kind: 'integer', declared, ...range(64) };
  if (/CHAR|CLOB|TEXT/.test(declared)) return { kind: 'text', declared };
  if (declared.includes('BLOB') || declared.trim() === '') return { kind: 'any', declared };
  if (/REAL|FLOA|DOUB/.test(declared)) return { kind: 'decimal', declared, float: true };
  return { kind: 'decimal', declared };
}

/**
 * The columns of the configured tables as the catalog lists them, by the config's table name.
 * Column names are matched as the database matches them: exactly (PostgreSQL, quoted) or without
 * regard to case (MySQL/MariaDB, SQLite).
 */
export class CatalogColumns {
  readonly #tables = new Map<string, Map<string, ColumnType>>();

  constructor(readonly foldsCase: boolean) {}

  add(table: string, column: string, type: ColumnType): void {
    let columns = this.#tables.get(table);
    if (columns === undefined) {
      columns = new Map();
      this.#tables.set(table, columns);
    }
    const key = this.#key(column);
    if (!columns.has(key)) columns.set(key, type);
  }

  hasTable(table: string): boolean {
    return this.#tables.has(table);
  }

  type(table: string, column: string): ColumnType | undefined {
    return this.#tables.get(table)?.get(this.#key(column));
  }

  #key(column: string): string {
    return this.foldsCase ? column.toLowerCase() : column;
  }
}

/** The type of a column a checked catalog holds (`any` if, against all checks, it does not). */
export type ColumnTypeOf = (table: string, column: string) => ColumnType;

/** `schema.table` or `table`, split as the connector's statements (Kysely's `sql.table`) split it. */
export function splitTableName(name: string): { schema: string | undefined; table: string } {
  const dot = name.indexOf('.');
  return dot === -1
    ? { schema: undefined, table: name }
    : { schema: name.slice(0, dot).trim(), table: name.slice(dot + 1).trim() };
}
