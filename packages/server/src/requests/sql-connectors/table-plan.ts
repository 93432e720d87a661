import {
  IDENTIFIER_TAGS,
  PII_TAG,
  SOURCE_KEY_TAG_PATTERN,
  type ConnectorInput,
  type IdentifierTag,
  type RequestStrategy,
  type RequestType,
} from '@lethe/api';

const SOURCE_KEY = new RegExp(SOURCE_KEY_TAG_PATTERN);
const IDENTIFIER_TAG_SET: ReadonlySet<string> = new Set(IDENTIFIER_TAGS);

export function isIdentifierTag(tag: string): tag is IdentifierTag {
  return IDENTIFIER_TAG_SET.has(tag);
}

export function isSourceKeyTag(tag: string): boolean {
  return SOURCE_KEY.test(tag);
}

/** A declared link `table.column -> referencedTable.referencedColumn`. */
export interface LinkPlan {
  readonly table: string;
  readonly column: string;
  readonly referencedTable: string;
  readonly referencedColumn: string;
  /** `link:<table>.<column>`: the semantic of records reached through it. */
  readonly semantic: string;
}

/** What the engine needs to know about one configured table. */
export interface TablePlan {
  readonly name: string;
  readonly primaryKey: readonly string[];
  readonly piiColumns: readonly string[];
  /** Identifier tag -> the column carrying it. */
  readonly identifierColumns: ReadonlyMap<IdentifierTag, string>;
  /** `source/<key>` -> the column carrying it. */
  readonly sourceKeys: ReadonlyMap<string, string>;
  /** Links declared on this table. */
  readonly outgoingLinks: readonly LinkPlan[];
  /** Links of any table (this one included) that reference this table. */
  readonly incomingLinks: readonly LinkPlan[];
}

/** `schema.table.column` -> table `schema.table`, column `column`; undefined without a dot. */
export function splitReference(reference: string): { table: string; column: string } | undefined {
  const dot = reference.lastIndexOf('.');
  if (dot <= 0 || dot === reference.length - 1) return undefined;
  return { table: reference.slice(0, dot), column: reference.slice(dot + 1) };
}

/** The plans of a config that `validateConnectorConfig` accepted (first column wins on a doubled tag). */
export function planTables(config: ConnectorInput): TablePlan[] {
  const links: LinkPlan[] = config.tables.flatMap((table) =>
    (table.links ?? []).flatMap((link) => {
      const target = splitReference(link.references);
      if (target === undefined) return [];
      return [
        {
          table: table.name,
          column: link.column,
          referencedTable: target.table,
          referencedColumn: target.column,
          semantic: `link:${table.name}.${link.column}`,
        },
      ];
    }),
  );
  return config.tables.map((table) => {
    const identifierColumns = new Map<IdentifierTag, string>();
    const sourceKeys = new Map<string, string>();
    const piiColumns: string[] = [];
    for (const [column, tags] of Object.entries(table.columns)) {
      for (const tag of tags) {
        if (tag === PII_TAG) {
          if (!piiColumns.includes(column)) piiColumns.push(column);
        } else if (isIdentifierTag(tag)) {
          if (!identifierColumns.has(tag)) identifierColumns.set(tag, column);
        } else if (isSourceKeyTag(tag)) {
          if (!sourceKeys.has(tag)) sourceKeys.set(tag, column);
        }
      }
    }
    return {
      name: table.name,
      primaryKey: table.primaryKey,
      piiColumns,
      identifierColumns,
      sourceKeys,
      outgoingLinks: links.filter((link) => link.table === table.name),
      incomingLinks: links.filter((link) => link.referencedTable === table.name),
    };
  });
}

/**
 * Which declared links a run follows: `both` directions for the connected strategy; for a
 * `delete` with the exact strategy, `children` only — rows that point at a deleted row go with it,
 * since a foreign key would refuse the delete (or, without one, leave rows that still hold the
 * person's data pointing at nothing); otherwise `none`.
 */
export type LinkFollowing = 'both' | 'children' | 'none';

export function linksFollowed(type: RequestType, strategy: RequestStrategy): LinkFollowing {
  if (strategy === 'connected') return 'both';
  return type === 'delete' ? 'children' : 'none';
}

/**
 * The columns whose values in matched rows reach other rows: source-key columns always; a
 * parent's referenced column when children are followed; a child's link column when parents are.
 */
export function linkingColumns(plan: TablePlan, following: LinkFollowing): string[] {
  const columns = new Set(plan.sourceKeys.values());
  if (following !== 'none') for (const link of plan.incomingLinks) columns.add(link.referencedColumn);
  if (following === 'both') for (const link of plan.outgoingLinks) columns.add(link.column);
  return [...columns];
}

/**
 * The order to delete in: a table that links to another comes before it (children before
 * parents, so foreign keys hold at every statement); otherwise the config's order. Tables on a
 * cycle of links keep the config's order among themselves.
 */
export function deletionOrder(plans: readonly TablePlan[]): TablePlan[] {
  const ordered: TablePlan[] = [];
  const placed = new Set<string>();
  const childrenOf = (plan: TablePlan) =>
    plan.incomingLinks.map((link) => link.table).filter((child) => child !== plan.name);
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
