import { ADDRESS_PARTS, type IdentifierTag, type Identifiers } from '@lethe/api';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { MatchCategory } from '../found-record.js';
import type { ColumnType, ColumnTypeOf } from './column-types.js';
import { LinkingValues } from './linking-values.js';
import type { SqlDialectAdapter } from './sql-dialect-adapter.js';
import { comparison, REQUEST_TEXT, toColumnValues } from './typed-values.js';
import { stepState, type RowState, type TablePlan } from './table-plan.js';

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
 * The request's identifiers that `plan` can match, each its own reason (one per column carrying
 * the tag), in a fixed order: subject-id, email, phone, address, custom-key, custom-key-2,
 * custom-key-3.
 */
export function directReasons(
  plan: TablePlan,
  identifiers: Identifiers,
  adapter: SqlDialectAdapter,
  typeOf: ColumnTypeOf,
): MatchReason[] {
  const reasons: MatchReason[] = [];
  const each = (
    tag: IdentifierTag,
    value: string | undefined,
    predicate: (ref: RawBuilder<unknown>) => RawBuilder<SqlBool>,
  ) => {
    if (value === undefined) return;
    for (const name of plan.identifierColumns.get(tag) ?? []) {
      const ref = sql.ref(name);
      const typed = typedIdentity(ref, [value], typeOf(plan.name, name), adapter, () => predicate(ref));
      if (typed !== undefined) reasons.push({ category: 'direct', semantic: tag, value, predicate: typed });
    }
  };
  const exact = (tag: IdentifierTag, value: string | undefined) =>
    each(tag, value, (ref) => adapter.caseSensitiveEquals(ref, value as string));

  exact('subject-id', identifiers.subject);
  each('email', identifiers.email, (ref) => sql<boolean>`lower(${ref}) = lower(${identifiers.email})`);
  each('phone', identifiers.phone, (ref) => sql<boolean>`${ref} = ${identifiers.phone}`);
  if (identifiers.address !== undefined) {
    const { address } = identifiers;
    const value = ADDRESS_PARTS.flatMap((part) => address[part] ?? []).join(', ');
    const predicate = addressPredicate(plan, address, adapter, typeOf);
    if (predicate !== undefined) reasons.push({ category: 'direct', semantic: 'address', value, predicate });
  }
  exact('custom-key', identifiers.customKey);
  exact('custom-key-2', identifiers.customKey2);
  exact('custom-key-3', identifiers.customKey3);
  return reasons;
}

/**
 * The identity tags whose values, found in the person's own rows, the `connected` strategy
 * searches for as further identifiers. Not the address group: a place is shared by a household.
 */
export const PROPAGATED_TAGS = [
  'subject-id',
  'email',
  'phone',
  'custom-key',
  'custom-key-2',
  'custom-key-3',
] as const;
export type PropagatedTag = (typeof PROPAGATED_TAGS)[number];

/** An identifier value as found in a row, normalised as the request's own are (emails lower case). */
export function identityValue(tag: PropagatedTag, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = (value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : String(value)).trim();
  if (text === '') return undefined;
  return tag === 'email' ? text.toLowerCase() : text;
}

/**
 * Rows of `plan` matched by identifiers found in the person's own rows (`connected`): one reason
 * per tagged column, category `connected`, semantic the tag, value the row's own.
 */
export function identityReasons(
  plan: TablePlan,
  found: (tag: PropagatedTag) => LinkingValues | undefined,
  adapter: SqlDialectAdapter,
  typeOf: ColumnTypeOf,
): MatchReason[] {
  const reasons: MatchReason[] = [];
  for (const tag of PROPAGATED_TAGS) {
    const values = found(tag)?.values() as string[] | undefined;
    if (values === undefined || values.length === 0) continue;
    for (const name of plan.identifierColumns.get(tag) ?? []) {
      const ref = sql.ref(name);
      const predicate = typedIdentity(ref, values, typeOf(plan.name, name), adapter, () =>
        tag === 'email'
          ? adapter.inValues(sql`lower(${ref})`, values, 'any')
          : tag === 'phone'
            ? adapter.inValues(ref, values, 'any')
            : sql<boolean>`(${sql.join(
                values.map((value) => adapter.caseSensitiveEquals(ref, value)),
                sql` or `,
              )})`,
      );
      if (predicate !== undefined)
        reasons.push({ category: 'connected', semantic: tag, column: name, predicate });
    }
  }
  return reasons;
}

/**
 * Identifier values (text) searched in a column: a text column (or a SQLite one without affinity)
 * as `textPredicate` says; a column of another type with the values converted to it (a custom key
 * in an integer column), values that do not convert reaching nothing (typed-values.ts).
 */
function typedIdentity(
  ref: RawBuilder<unknown>,
  values: readonly string[],
  type: ColumnType,
  adapter: SqlDialectAdapter,
  textPredicate: () => RawBuilder<SqlBool>,
): RawBuilder<SqlBool> | undefined {
  if (type.kind === 'text' || type.kind === 'any') return textPredicate();
  const converted = toColumnValues(values, REQUEST_TEXT, type);
  if (converted.length === 0) return undefined;
  return adapter.inValues(ref, converted, comparison(REQUEST_TEXT, type));
}

/**
 * An address group is one identifier: all six parts must match. A part the table does not tag,
 * or the request does not give, is NULL; NULL matches NULL or blank; the rest compare trimmed and
 * case-insensitively. A table without an `address` column never matches.
 */
function addressPredicate(
  plan: TablePlan,
  address: NonNullable<Identifiers['address']>,
  adapter: SqlDialectAdapter,
  typeOf: ColumnTypeOf,
): RawBuilder<SqlBool> | undefined {
  if (!plan.identifierColumns.has('address')) return undefined;
  const conditions: RawBuilder<SqlBool>[] = [];
  for (const part of ADDRESS_PARTS) {
    const name = plan.identifierColumns.get(part)?.[0];
    const value = address[part];
    if (name === undefined) {
      if (value !== undefined) return undefined;
      continue;
    }
    // A part in a column of another type (a postal code as an integer) compares as its text.
    const kind = typeOf(plan.name, name).kind;
    const ref = kind === 'text' || kind === 'any' ? sql.ref(name) : adapter.textOf(sql.ref(name));
    conditions.push(
      value === undefined
        ? sql<boolean>`(${ref} is null or trim(${ref}) = '')`
        : sql<boolean>`lower(trim(${ref})) = lower(${value})`,
    );
  }
  return sql<boolean>`(${sql.join(conditions, sql` and `)})`;
}

/** Linking values found so far, by table, column and the state of the rows they came from. */
export type LinkingValuesOf = (table: string, column: string, state: RowState) => LinkingValues | undefined;

/** The reasons that reach a table's rows, by the state the rows are reached in. */
export interface ReachReasons {
  readonly own: MatchReason[];
  readonly shared: MatchReason[];
}

/**
 * The reasons that reach `plan`'s rows from values of other reached rows, sorted by the state
 * they reach the rows in (`stepState`): a `source/<key>` value of another table's own row; a
 * link walked DOWN from an own parent; a link walked UP from an own or shared child.
 * Reasons without values are left out.
 */
export function reachReasons(
  plan: TablePlan,
  plans: readonly TablePlan[],
  valuesOf: LinkingValuesOf,
  adapter: SqlDialectAdapter,
  typeOf: ColumnTypeOf,
): ReachReasons {
  const reached: ReachReasons = { own: [], shared: [] };
  const add = (
    state: RowState | undefined,
    category: MatchCategory,
    semantic: string,
    column: string,
    sources: readonly LinkingSource[],
  ) => {
    if (state === undefined) return;
    const predicate = typedIn(adapter, column, typeOf(plan.name, column), sources, typeOf);
    if (predicate !== undefined) reached[state].push({ category, semantic, column, predicate });
  };
  for (const from of ['own', 'shared'] as const) {
    for (const [key, column] of plan.sourceKeys) {
      const sources = plans.flatMap((other) => {
        const otherColumn = other.name === plan.name ? undefined : other.sourceKeys.get(key);
        const values = otherColumn === undefined ? undefined : valuesOf(other.name, otherColumn, from);
        return values === undefined ? [] : [{ table: other.name, column: otherColumn as string, values }];
      });
      add(stepState(from, 'source_key', plan.owner), 'source_key', key, column, sources);
    }
    // Rows of this table that point at a reached row (its children).
    for (const link of plan.outgoingLinks) {
      if (!link.down) continue;
      const values = valuesOf(link.parent, link.parentColumn, from);
      add(stepState(from, 'down', plan.owner), 'connected', link.semantic, link.childColumn, [
        ...(values === undefined ? [] : [{ table: link.parent, column: link.parentColumn, values }]),
      ]);
    }
    // Rows of this table that a reached row points at (its parents).
    for (const link of plan.incomingLinks) {
      if (!link.up) continue;
      const values = valuesOf(link.child, link.childColumn, from);
      add(stepState(from, 'up', plan.owner), 'connected', link.semantic, link.parentColumn, [
        ...(values === undefined ? [] : [{ table: link.child, column: link.childColumn, values }]),
      ]);
    }
  }
  return reached;
}

/** Linking values and the column they were read from. */
interface LinkingSource {
  readonly table: string;
  readonly column: string;
  readonly values: LinkingValues;
}

/**
 * `column in (values)`, the values of each source converted from its column's type to the target
 * column's (typed-values.ts): undefined when none converts. Sources compared alike share one list.
 */
function typedIn(
  adapter: SqlDialectAdapter,
  column: string,
  target: ColumnType,
  sources: readonly LinkingSource[],
  typeOf: ColumnTypeOf,
): RawBuilder<SqlBool> | undefined {
  const byComparison = new Map<ReturnType<typeof comparison>, LinkingValues>();
  for (const source of sources) {
    const type = typeOf(source.table, source.column);
    const set = byComparison.get(comparison(type, target)) ?? new LinkingValues();
    for (const value of toColumnValues(source.values.values(), type, target)) set.add(value);
    byComparison.set(comparison(type, target), set);
  }
  const predicates = [...byComparison]
    .filter(([, values]) => values.size > 0)
    .map(([as, values]) => adapter.inValues(sql.ref(column), values.values(), as));
  if (predicates.length === 0) return undefined;
  return predicates.length === 1 ? predicates[0] : sql<boolean>`(${sql.join(predicates, sql` or `)})`;
}

/** `a or b or ...`; undefined for no reasons. */
export function anyOf(reasons: readonly MatchReason[]): RawBuilder<SqlBool> | undefined {
  if (reasons.length === 0) return undefined;
  return sql<boolean>`(${sql.join(
    reasons.map((reason) => reason.predicate),
    sql` or `,
  )})`;
}
