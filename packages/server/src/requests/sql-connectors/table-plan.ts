import { columnRules, isPersonal, type ColumnRules } from './column-masks.js';
import {
  ADDRESS_PARTS,
  IDENTIFIER_TAGS,
  SOURCE_KEY_TAG_PATTERN,
  type ConnectorInput,
  type EraseMode,
  type IdentifierTag,
  type TableOwner,
} from '@lethe/api';

const SOURCE_KEY = new RegExp(SOURCE_KEY_TAG_PATTERN);
const IDENTIFIER_TAG_SET: ReadonlySet<string> = new Set(IDENTIFIER_TAGS);
/** The tags of an address group: one identifier made of several columns, one column each. */
export const ADDRESS_GROUP_TAGS: ReadonlySet<string> = new Set(ADDRESS_PARTS);

export function isIdentifierTag(tag: string): tag is IdentifierTag {
  return IDENTIFIER_TAG_SET.has(tag);
}

export function isSourceKeyTag(tag: string): boolean {
  return SOURCE_KEY.test(tag);
}

/**
 * A declared link between two columns, seen as a reference from a `child` row to the `parent` row
 * it points at. A step from child to parent is UP (into a row many others may point at); from
 * parent to child it is DOWN. `up`/`down` say which steps the link allows.
 */
export interface LinkPlan {
  readonly child: string;
  readonly childColumn: string;
  readonly parent: string;
  readonly parentColumn: string;
  readonly up: boolean;
  readonly down: boolean;
  /** `link:<declaring table>.<column>`: the semantic of records reached through it. */
  readonly semantic: string;
}

/** What the engine needs to know about one configured table. */
export interface TablePlan {
  readonly name: string;
  readonly primaryKey: readonly string[];
  /** Personal columns: tagged `compliance/pii` or of a `user.*` category (a record lists them). */
  readonly piiColumns: readonly string[];
  /** Every configured column's tags, categories and mask, by column name. */
  readonly columns: ReadonlyMap<string, ColumnRules>;
  readonly owner: TableOwner | undefined;
  readonly erase: EraseMode | undefined;
  /** Identifier tag -> the columns carrying it (address-group tags: one column). */
  readonly identifierColumns: ReadonlyMap<IdentifierTag, readonly string[]>;
  /** `source/<key>` -> the column carrying it. */
  readonly sourceKeys: ReadonlyMap<string, string>;
  /** Links on which this table is the child: it points at the parent. */
  readonly outgoingLinks: readonly LinkPlan[];
  /** Links on which this table is the parent: other rows (maybe of this table) point at it. */
  readonly incomingLinks: readonly LinkPlan[];
}

/** `schema.table.column` -> table `schema.table`, column `column`; undefined without a dot. */
export function splitReference(reference: string): { table: string; column: string } | undefined {
  const dot = reference.lastIndexOf('.');
  if (dot <= 0 || dot === reference.length - 1) return undefined;
  return { table: reference.slice(0, dot), column: reference.slice(dot + 1) };
}

type ConfigLink = NonNullable<ConnectorInput['tables'][number]['links']>[number];

/**
 * Which end of a declared link is the child. A link without a direction keeps its old meaning:
 * the declaring table points at the referenced one. A directed link (fideslang may declare a
 * reference on either end) points at the end whose column is that table's whole primary key;
 * when neither or both are, at the referenced end. The direction then allows the one step:
 * `to` from the declaring column to the referenced one, `from` back.
 */
export function linkPlan(
  table: string,
  link: ConfigLink,
  target: { table: string; column: string },
  primaryKeyOf: (table: string) => readonly string[] | undefined,
): LinkPlan {
  const isKey = (name: string, column: string) => {
    const key = primaryKeyOf(name);
    return key?.length === 1 && key[0] === column;
  };
  const reversed =
    link.direction !== undefined && !isKey(target.table, target.column) && isKey(table, link.column);
  const ends = reversed
    ? { child: target.table, childColumn: target.column, parent: table, parentColumn: link.column }
    : { child: table, childColumn: link.column, parent: target.table, parentColumn: target.column };
  // `to` walks declaring -> referenced: UP unless the link is reversed.
  const towardsParent = link.direction === undefined ? undefined : (link.direction === 'to') !== reversed;
  return {
    ...ends,
    up: towardsParent !== false,
    down: towardsParent !== true,
    semantic: `link:${table}.${link.column}`,
  };
}

/** The plans of a config that `validateConnectorConfig` accepted (first column wins on a doubled tag). */
export function planTables(config: ConnectorInput): TablePlan[] {
  const keys = new Map(config.tables.map((table) => [table.name, table.primaryKey]));
  const links: LinkPlan[] = config.tables.flatMap((table) =>
    (table.links ?? []).flatMap((link) => {
      const target = splitReference(link.references);
      return target === undefined ? [] : [linkPlan(table.name, link, target, (name) => keys.get(name))];
    }),
  );
  return config.tables.map((table) => {
    const identifierColumns = new Map<IdentifierTag, string[]>();
    const sourceKeys = new Map<string, string>();
    const piiColumns: string[] = [];
    const columns = new Map<string, ColumnRules>();
    for (const [column, spec] of Object.entries(table.columns)) {
      const rules = columnRules(spec);
      columns.set(column, rules);
      if (isPersonal(rules)) piiColumns.push(column);
      for (const tag of rules.tags) {
        if (isIdentifierTag(tag)) {
          const columns = identifierColumns.get(tag) ?? [];
          if (columns.length === 0 || !ADDRESS_GROUP_TAGS.has(tag)) columns.push(column);
          identifierColumns.set(tag, columns);
        } else if (isSourceKeyTag(tag)) {
          if (!sourceKeys.has(tag)) sourceKeys.set(tag, column);
        }
      }
    }
    return {
      name: table.name,
      primaryKey: table.primaryKey,
      piiColumns,
      columns,
      owner: table.owner,
      erase: table.erase,
      identifierColumns,
      sourceKeys,
      outgoingLinks: links.filter((link) => link.child === table.name),
      incomingLinks: links.filter((link) => link.parent === table.name),
    };
  });
}

/**
 * Whose a reached row is. OWN rows are the person's: erased, and walked on in every direction.
 * SHARED rows are read (a DSAR shows them) but never changed, and never walked down from: that
 * is what keeps a walk from an address back down to the neighbours who share it.
 */
export type RowState = 'own' | 'shared';

/** How a row was reached from another: a link UP or DOWN, or a shared `source/<key>` value. */
export type Step = 'up' | 'down' | 'source_key';

/** The state of a row matched by the request's identifiers (or identifiers found in own rows). */
export function seedState(owner: TableOwner | undefined): RowState {
  return owner === 'shared' ? 'shared' : 'own';
}

/**
 * The safe rule: the state of a row of a table owned as `owner` reached by `step` from a row in
 * state `from`; undefined when the step is not taken. From an own row, DOWN and source keys reach
 * own rows and UP reaches shared ones (own in an `owner: subject` table); from a shared row only
 * UP is taken, to shared rows. An `owner: shared` table's rows are always shared.
 */
export function stepState(from: RowState, step: Step, owner: TableOwner | undefined): RowState | undefined {
  if (from === 'shared') return step === 'up' ? 'shared' : undefined;
  if (owner === 'shared') return 'shared';
  if (step === 'up') return owner === 'subject' ? 'own' : 'shared';
  return 'own';
}

/**
 * The columns whose values in `plan`'s rows of state `state` reach other rows: for own rows the
 * source-key columns, the referenced columns of links that may be walked down to children, and
 * the referencing columns of links that may be walked up; for shared rows only the latter.
 */
export function linkingColumns(plan: TablePlan, state: RowState): string[] {
  // A step not taken from this state needs no values; the target's owner never forbids a step.
  const takes = (step: Step) => stepState(state, step, undefined) !== undefined;
  const columns = new Set<string>();
  if (takes('source_key')) for (const column of plan.sourceKeys.values()) columns.add(column);
  if (takes('down')) for (const link of plan.incomingLinks) if (link.down) columns.add(link.parentColumn);
  if (takes('up')) for (const link of plan.outgoingLinks) if (link.up) columns.add(link.childColumn);
  return [...columns];
}

/**
 * The order to delete in: a child table comes before its parents (so foreign keys hold at every
 * statement); otherwise the config's order. Tables on a cycle of links keep the config's order
 * among themselves.
 */
export function deletionOrder(plans: readonly TablePlan[]): TablePlan[] {
  const ordered: TablePlan[] = [];
  const placed = new Set<string>();
  const childrenOf = (plan: TablePlan) =>
    plan.incomingLinks.map((link) => link.child).filter((child) => child !== plan.name);
  while (ordered.length < plans.length) {
    const remaining = plans.filter((plan) => !placed.has(plan.name));
    const next =
      remaining.find((plan) => childrenOf(plan).every((child) => placed.has(child))) ?? remaining[0];
    if (next === undefined) break;
    ordered.push(next);
    placed.add(next.name);
  }
  return ordered;
}
