import { ADDRESS_PARTS, PII_TAG, type ConnectorInput } from '@lethe/api';
import { Taxonomy } from '../../lib/taxonomy.js';
import { columnRules, isPersonal } from './column-masks.js';
import { ADDRESS_GROUP_TAGS, isIdentifierTag, isSourceKeyTag, splitReference } from './table-plan.js';

export interface ConfigProblem {
  /** Where in the config, e.g. `tables[2].links[0].references`. */
  readonly path: string;
  readonly message: string;
}

const COLUMN = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const ADDRESS_DETAIL_PARTS: ReadonlySet<string> = new Set(ADDRESS_PARTS.filter((part) => part !== 'address'));

/**
 * Checks a connector config against the rules the schema cannot express, without touching a
 * database. An empty list means the config is valid. Column categories must be keys of
 * `categories` (the default data categories unless given).
 */
export function validateConnectorConfig(
  config: ConnectorInput,
  categories: Taxonomy = Taxonomy.dataCategories(),
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const tableIndex = new Map<string, number>();
  config.tables.forEach((table, index) => {
    const first = tableIndex.get(table.name);
    if (first === undefined) tableIndex.set(table.name, index);
    else
      problems.push({
        path: `tables[${index}].name`,
        message: `table '${table.name}' is also tables[${first}]`,
      });
  });

  config.tables.forEach((table, t) => {
    const at = `tables[${t}]`;
    const tagColumn = new Map<string, string>();
    for (const [column, spec] of Object.entries(table.columns)) {
      const { tags, categories: keys } = columnRules(spec);
      const tagsAt = Array.isArray(spec) ? `${at}.columns.${column}` : `${at}.columns.${column}.tags`;
      keys.forEach((key, k) => {
        if (!categories.has(key)) {
          problems.push({
            path: `${at}.columns.${column}.categories[${k}]`,
            message: `unknown data category '${key}' (see the taxonomy's data categories)`,
          });
        }
      });
      const seen = new Set<string>();
      tags.forEach((tag, k) => {
        const path = `${tagsAt}[${k}]`;
        if (seen.has(tag)) {
          problems.push({ path, message: `tag '${tag}' is given twice` });
          return;
        }
        seen.add(tag);
        if (tag === PII_TAG) return;
        if (!isIdentifierTag(tag) && !isSourceKeyTag(tag)) {
          problems.push({
            path,
            message: `unknown tag '${tag}': use an identifier tag (email, phone, address, ...), ${PII_TAG} or source/<key>`,
          });
          return;
        }
        // Any number of columns may carry an identity (email, alt_email); an address group's
        // parts and a source key name one column each.
        const other = isIdentifierTag(tag) && !ADDRESS_GROUP_TAGS.has(tag) ? undefined : tagColumn.get(tag);
        if (other !== undefined) {
          problems.push({
            path,
            message: `tag '${tag}' is also on column '${other}'; a tag names one column`,
          });
        } else {
          tagColumn.set(tag, column);
        }
        if (
          ADDRESS_DETAIL_PARTS.has(tag) &&
          !Object.values(table.columns).some((other) => columnRules(other).tags.includes('address'))
        ) {
          problems.push({
            path,
            message: `'${tag}' is part of an address group, but no column is tagged 'address'`,
          });
        }
      });
    }

    const keyColumns = new Set<string>();
    table.primaryKey.forEach((column, k) => {
      const path = `${at}.primaryKey[${k}]`;
      if (keyColumns.has(column)) problems.push({ path, message: `column '${column}' is given twice` });
      keyColumns.add(column);
      const spec = table.columns[column];
      if (spec !== undefined && isPersonal(columnRules(spec))) {
        problems.push({
          path,
          message: `primary key column '${column}' is personal (${PII_TAG} or a user.* category): an erasure cannot rewrite a key`,
        });
      }
    });

    const linkKeys = new Set<string>();
    (table.links ?? []).forEach((link, l) => {
      const path = `${at}.links[${l}]`;
      const target = splitReference(link.references);
      if (target === undefined || !COLUMN.test(target.column)) {
        problems.push({ path: `${path}.references`, message: `'${link.references}' is not 'table.column'` });
        return;
      }
      if (!tableIndex.has(target.table)) {
        problems.push({
          path: `${path}.references`,
          message: `table '${target.table}' is not a table of this connector`,
        });
        return;
      }
      if (target.table === table.name && target.column === link.column) {
        problems.push({ path: `${path}.column`, message: `column '${link.column}' links to itself` });
      }
      const key = `${link.column}->${target.table}.${target.column}`;
      if (linkKeys.has(key)) problems.push({ path, message: 'this link is declared twice' });
      linkKeys.add(key);
    });
  });
  return problems;
}

/**
 * What a config means now that it may not have meant before the reference graph (issue 15):
 * links without a `direction` are walked under the safe rule by both strategies. Shown by
 * `lethe apply` so that nobody learns it from an erasure.
 */
export function connectorConfigNotes(config: ConnectorInput): string[] {
  const legacy = config.tables.flatMap((table, t) =>
    (table.links ?? []).flatMap((link, l) =>
      link.direction === undefined ? [`tables[${t}].links[${l}]`] : [],
    ),
  );
  if (legacy.length === 0) return [];
  return [
    `${legacy.length} link(s) without a direction (${legacy.slice(0, 5).join(', ')}${legacy.length > 5 ? ', ...' : ''}) ` +
      'are walked under the safe rule: both strategies now follow links (exact too, for every request type), ' +
      'and rows reached by walking up (an address, an employee) are shown but no longer erased unless their ' +
      "table says owner: subject; give each link a direction ('to' or 'from') to say exactly " +
      '(docs/rights-requests.md, "The reference graph")',
  ];
}
