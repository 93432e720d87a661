import { ADDRESS_PARTS, type Identifiers } from '@lethe/api';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { MatchCategory } from '../found-record.js';
import { LinkingValues } from './linking-values.js';
import type { SqlDialectAdapter } from './sql-dialect-adapter.js';
import type { LinkFollowing, TablePlan } from './table-plan.js';

/**
 * One way a row of a table can match: a SQL predicate over the row, and what the record then
 * says (category, semantic, semanticValue). A row's record takes the first reason that holds, and
 * reasons are listed strongest first (direct, source_key, connected).
 */
export interface MatchReason {
  readonly category: MatchCategory;
  readonly semantic: string;
  readonly predicate: RawBuilder<SqlBool>;
  /** The column whose value is the semanticValue; undefined when it is the request's value. */
  readonly column?: string;
  /** The request's value (direct matches). */
  readonly value?: string;
}

/**
 * The request's identifiers that `plan` can match, each its own reason, in a fixed order:
 * subject-id, email, phone, address, custom-key, custom-key-2, custom-key-3.
 */
export function directReasons(
  plan: TablePlan,
  identifiers: Identifiers,
  adapter: SqlDialectAdapter,
): MatchReason[] {
  const reasons: MatchReason[] = [];
  const add = (semantic: string, value: string, predicate: RawBuilder<SqlBool> | undefined) => {
    if (predicate !== undefined) reasons.push({ category: 'direct', semantic, value, predicate });
  };
  const column = (tag: Parameters<TablePlan['identifierColumns']['get']>[0]) => {
    const name = plan.identifierColumns.get(tag);
    return name === undefined ? undefined : sql.ref(name);
  };
  const exact = (
    tag: 'subject-id' | 'custom-key' | 'custom-key-2' | 'custom-key-3',
    value: string | undefined,
  ) => {
    const ref = column(tag);
    if (value !== undefined && ref !== undefined) add(tag, value, adapter.caseSensitiveEquals(ref, value));
  };

  exact('subject-id', identifiers.subject);
  const email = column('email');
  if (identifiers.email !== undefined && email !== undefined) {
    add('email', identifiers.email, sql<boolean>`lower(${email}) = lower(${identifiers.email})`);
  }
  const phone = column('phone');
  if (identifiers.phone !== undefined && phone !== undefined) {
    add('phone', identifiers.phone, sql<boolean>`${phone} = ${identifiers.phone}`);
  }
  if (identifiers.address !== undefined) {
    const { address } = identifiers;
    const value = ADDRESS_PARTS.flatMap((part) => address[part] ?? []).join(', ');
    add('address', value, addressPredicate(plan, address));
  }
  exact('custom-key', identifiers.customKey);
  exact('custom-key-2', identifiers.customKey2);
  exact('custom-key-3', identifiers.customKey3);
  return reasons;
}

/**
 * An address group is one identifier: all six parts must match. A part the table does not tag,
 * or the request does not give, is NULL; NULL matches NULL or blank; the rest compare trimmed and
 * case-insensitively. A table without an `address` column never matches.
 */
function addressPredicate(
  plan: TablePlan,
  address: NonNullable<Identifiers['address']>,
): RawBuilder<SqlBool> | undefined {
  if (!plan.identifierColumns.has('address')) return undefined;
  const conditions: RawBuilder<SqlBool>[] = [];
  for (const part of ADDRESS_PARTS) {
    const name = plan.identifierColumns.get(part);
    const value = address[part];
    if (name === undefined) {
      if (value !== undefined) return undefined;
      continue;
    }
    const ref = sql.ref(name);
    conditions.push(
      value === undefined
        ? sql<boolean>`(${ref} is null or trim(${ref}) = '')`
        : sql<boolean>`lower(trim(${ref})) = lower(${value})`,
    );
  }
  return sql<boolean>`(${sql.join(conditions, sql` and `)})`;
}

/** Linking values found so far, by table and column. */
export type LinkingValuesOf = (table: string, column: string) => LinkingValues | undefined;

/**
 * The reasons that reach `plan`'s rows from values of other matched rows: a `source/<key>` value
 * of another table (always), and links as `following` says (see `linksFollowed`).
 * Reasons without values are left out.
 */
export function expansionReasons(
  plan: TablePlan,
  plans: readonly TablePlan[],
  following: LinkFollowing,
  valuesOf: LinkingValuesOf,
  adapter: SqlDialectAdapter,
): MatchReason[] {
  const reasons: MatchReason[] = [];
  const add = (
    category: MatchCategory,
    semantic: string,
    column: string,
    values: LinkingValues | undefined,
  ) => {
    if (values === undefined || values.size === 0) return;
    reasons.push({
      category,
      semantic,
      column,
      predicate: adapter.inValues(sql.ref(column), values.values()),
    });
  };
  for (const [key, column] of plan.sourceKeys) {
    const sets = plans.flatMap((other) => {
      const otherColumn = other.name === plan.name ? undefined : other.sourceKeys.get(key);
      return (otherColumn === undefined ? undefined : valuesOf(other.name, otherColumn)) ?? [];
    });
    add('source_key', key, column, LinkingValues.union(sets));
  }
  if (following !== 'none') {
    // A row of this table that points at a matched row (a child of it).
    for (const link of plan.outgoingLinks) {
      add('connected', link.semantic, link.column, valuesOf(link.referencedTable, link.referencedColumn));
    }
  }
  if (following === 'both') {
    // A row of this table that a matched row points at (its parent).
    for (const link of plan.incomingLinks) {
      add('connected', link.semantic, link.referencedColumn, valuesOf(link.table, link.column));
    }
  }
  return reasons;
}

/** `a or b or ...`; undefined for no reasons. */
export function anyOf(reasons: readonly MatchReason[]): RawBuilder<SqlBool> | undefined {
  if (reasons.length === 0) return undefined;
  return sql<boolean>`(${sql.join(
    reasons.map((reason) => reason.predicate),
    sql` or `,
  )})`;
}
