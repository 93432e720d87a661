/**
 * What a rights request finds: one record per matched row (SQL connectors) or per record a
 * rights client returns. These become the detail rows of the request's report.
 */

/**
 * `direct`: a column matched an identifier of the request; `connected`: reached from a direct
 * match through a declared link; `source_key`: shares a `source/<key>` value with a matched row.
 */
export type MatchCategory = 'direct' | 'connected' | 'source_key';

export interface FoundRecord {
  /** Where the record lives: `connector.table` for SQL, `client:dataset` for rights clients. */
  readonly datasource: string;
  /** The record's primary key; several columns are joined as `col=value` pairs with `,`. */
  readonly pk: string;
  readonly matchCategory: MatchCategory;
  /** The identifier (`email`, `phone`, `address`, `custom-key`, `subject-id`) or link that matched. */
  readonly semantic: string;
  /** The value that matched (the request's normalised identifier, or the linking value). */
  readonly semanticValue: string;
  /** Personal columns of this record (`compliance/pii` or a `user.*` category): the ones delete_pii masks. */
  readonly piiColumns: readonly string[];
  /**
   * `shared`: the row was reached (it is shown, and counted) but is not the person's alone, so
   * no erasure changes it: a row the person's rows point at (an address, an employee), or a row
   * of a table configured `owner: shared`. `never`: the person's own row, kept because its table
   * says `erase: never`. Absent for the person's own rows an erasure changes.
   */
  readonly kept?: 'shared' | 'never';
  /** The record's values, for a DSAR only (what the person gets to see). */
  readonly values?: Readonly<Record<string, unknown>>;
}
