import type { ColumnSpec, ConnectorTable, IdentifierTag, Mask } from '@lethe/api';
import {
  FIDES_DEFAULT_IDENTITIES,
  IDENTIFIER,
  isNode,
  isPersonalCategory,
  tableName,
  textOf,
  type DatasetContext,
  type Node,
  type Reader,
} from './fides-reader.js';

/** A fideslang field (`DatasetField` and its `FidesMeta`) read as a connector column and links. */

const FIELD_KEYS = new Set([
  'name',
  'description',
  'data_categories',
  'data_uses',
  'data_purposes',
  'data_subjects',
  'retention',
  'fides_meta',
  'fidesops_meta',
  'fields',
]);
const FIELD_META_KEYS = new Set([
  'references',
  'identity',
  'primary_key',
  'data_type',
  'length',
  'return_all_elements',
  'read_only',
  'custom_request_field',
  'masking_strategy_override',
  'redact',
]);

export function readField(
  reader: Reader,
  node: Node,
  path: string,
  context: DatasetContext,
  table: ConnectorTable,
  links: NonNullable<ConnectorTable['links']>,
): void {
  reader.unknownKeys(node, FIELD_KEYS, path, 'field');
  reader.uses(node, path);
  if (node['retention'] !== undefined && node['retention'] !== null)
    reader.notes.add(
      `retention (first at ${path}.retention) is not imported: Lethe's policies set retention`,
    );
  const name = textOf(node['name']);
  if (name === undefined || !IDENTIFIER.test(name)) {
    reader.problem(
      `${path}.name`,
      'a field name must be a plain SQL column name (nested fields cannot be expressed)',
    );
    return;
  }
  if (node['fields'] !== undefined && node['fields'] !== null) {
    reader.problem(
      `${path}.fields`,
      `field '${name}' has nested fields: objects in a column cannot be expressed`,
    );
  }
  const { meta, path: metaPath } = reader.meta(node, path);
  reader.unknownKeys(meta, FIELD_META_KEYS, metaPath, 'field fides_meta');
  const tags: string[] = [];
  let mask: Mask | undefined;
  readFieldFlags(reader, meta, metaPath, name);
  if (meta['primary_key'] === true) table.primaryKey.push(name);
  if (meta['identity'] !== undefined) {
    const tag = readIdentity(reader, meta['identity'], `${metaPath}.identity`);
    if (tag) tags.push(tag);
  }
  for (const link of readReferences(reader, meta['references'], `${metaPath}.references`, context)) {
    links.push({ column: name, ...link });
  }
  if (meta['masking_strategy_override'] !== undefined) {
    mask = readMask(reader, meta['masking_strategy_override'], `${metaPath}.masking_strategy_override`);
  }
  let categories = readCategories(reader, node['data_categories'], `${path}.data_categories`);
  if (meta['primary_key'] === true && categories.some(isPersonalCategory)) {
    reader.notes.add(
      `${path}.data_categories: the user.* categories of key column '${name}' are not imported (${categories
        .filter(isPersonalCategory)
        .join(', ')}): Lethe never rewrites a primary key`,
    );
    categories = categories.filter((key) => !isPersonalCategory(key));
  }
  if (mask && !categories.some(isPersonalCategory)) {
    reader.problem(
      `${metaPath}.masking_strategy_override`,
      `field '${name}' has a masking strategy but no user.* data category: Lethe rewrites only personal columns`,
    );
  }
  if (tags.length === 0 && categories.length === 0 && !mask) return;
  const spec: ColumnSpec = {
    ...(tags.length > 0 ? { tags } : {}),
    ...(categories.length > 0 ? { categories } : {}),
    ...(mask ? { mask } : {}),
  };
  table.columns[name] = categories.length === 0 && !mask ? tags : spec;
}

/** Flags whose meaning no connector config has: each is refused where it is set. */
function readFieldFlags(reader: Reader, meta: Node, path: string, name: string): void {
  const dataType = meta['data_type'];
  if (typeof dataType === 'string' && (dataType.startsWith('object') || dataType.endsWith('[]'))) {
    reader.problem(
      `${path}.data_type`,
      `field '${name}' is ${dataType}: objects and arrays in a column cannot be expressed`,
    );
  }
  if (meta['return_all_elements'] !== undefined && meta['return_all_elements'] !== null) {
    reader.problem(`${path}.return_all_elements`, 'arrays in a column cannot be expressed');
  }
  if (meta['read_only'] === true) {
    reader.problem(
      `${path}.read_only`,
      `read_only cannot be expressed per column: drop the field's user.* categories, or give the collection no erasure`,
    );
  }
  if (meta['custom_request_field'] !== undefined && meta['custom_request_field'] !== null) {
    reader.problem(
      `${path}.custom_request_field`,
      'custom request fields cannot be expressed: a request carries identifiers only',
    );
  }
  if (meta['redact'] !== undefined && meta['redact'] !== null) {
    reader.problem(`${path}.redact`, 'redacting names in reports cannot be expressed');
  }
  if (meta['primary_key'] !== undefined && typeof meta['primary_key'] !== 'boolean') {
    reader.problem(`${path}.primary_key`, 'must be true or false');
  }
}

function readIdentity(reader: Reader, value: unknown, path: string): IdentifierTag | undefined {
  if (typeof value !== 'string') {
    reader.problem(path, 'an identity is the name of an identity type');
    return undefined;
  }
  const tag = reader.options.identities?.[value] ?? FIDES_DEFAULT_IDENTITIES[value];
  if (tag === undefined) {
    reader.problem(
      path,
      `identity '${value}' has no Lethe identifier: map it (lethe connectors import-fides --identity ${value}=subject-id|custom-key|custom-key-2|custom-key-3)`,
    );
  }
  return tag;
}

function readReferences(
  reader: Reader,
  value: unknown,
  path: string,
  context: DatasetContext,
): { references: string; direction?: 'to' | 'from' }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    reader.problem(path, 'must be a list');
    return [];
  }
  return value.flatMap((reference, r) => {
    const at = `${path}[${r}]`;
    if (!isNode(reference)) {
      reader.problem(at, 'a reference is a mapping');
      return [];
    }
    const dataset = textOf(reference['dataset']);
    const field = textOf(reference['field']);
    const direction = reference['direction'];
    let ok = true;
    if (dataset !== context.key) {
      reader.problem(
        `${at}.dataset`,
        `a reference to another dataset ('${String(dataset)}') cannot be expressed: a connector holds one database`,
      );
      ok = false;
    }
    const parts = (field ?? '').split('.');
    if (parts.length !== 2 || !parts.every((part) => IDENTIFIER.test(part))) {
      reader.problem(
        `${at}.field`,
        `'${String(field)}' is not 'collection.field' (nested fields cannot be expressed)`,
      );
      ok = false;
    } else if (dataset === context.key && !context.collections.has(parts[0])) {
      reader.problem(`${at}.field`, `collection '${parts[0]}' is not in this dataset`);
      ok = false;
    }
    if (direction !== undefined && direction !== null && direction !== 'to' && direction !== 'from') {
      reader.problem(`${at}.direction`, `direction is 'to' or 'from', not '${String(direction)}'`);
      ok = false;
    }
    for (const key of Object.keys(reference)) {
      if (!['dataset', 'field', 'direction'].includes(key))
        reader.problem(`${at}.${key}`, `'${key}' is not a key of a reference`);
    }
    if (!ok) return [];
    const references = `${tableName(context, parts[0]!)}.${parts[1]!}`;
    return [direction === 'to' || direction === 'from' ? { references, direction } : { references }];
  });
}

function readCategories(reader: Reader, value: unknown, path: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    reader.problem(path, 'must be a list of data category keys');
    return [];
  }
  return value.flatMap((key, k) => {
    if (typeof key !== 'string') {
      reader.problem(`${path}[${k}]`, 'a data category is a key');
      return [];
    }
    if (reader.options.categories && !reader.options.categories.has(key)) {
      reader.problem(
        `${path}[${k}]`,
        `unknown data category '${key}' (not in the server's taxonomy; extend it with PUT /v1/taxonomy)`,
      );
      return [];
    }
    return [key];
  });
}

/**
 * fides field masking strategies → Lethe masks. `hash` (salted SHA-256 in fides) becomes the
 * keyed HMAC: both turn equal values into equal, unguessable values.
 */
function readMask(reader: Reader, value: unknown, path: string): Mask | undefined {
  if (!isNode(value) || typeof value['strategy'] !== 'string') {
    reader.problem(path, 'a masking strategy override is {strategy, configuration}');
    return undefined;
  }
  const strategy = value['strategy'];
  const configuration = isNode(value['configuration']) ? value['configuration'] : {};
  const at = `${path}.configuration`;
  const allowOnly = (allowed: readonly string[]): boolean => {
    const extra = Object.keys(configuration).filter((key) => !allowed.includes(key));
    for (const key of extra) reader.problem(`${at}.${key}`, `${strategy} '${key}' cannot be expressed`);
    return extra.length === 0;
  };
  const sha256 = (): boolean => {
    const algorithm = configuration['algorithm'];
    if (algorithm === undefined || algorithm === 'SHA-256') return true;
    reader.problem(
      `${at}.algorithm`,
      `${strategy} with ${String(algorithm)} cannot be expressed (SHA-256 only)`,
    );
    return false;
  };
  switch (strategy) {
    case 'null_rewrite':
      return allowOnly([]) ? { strategy: 'null' } : undefined;
    case 'string_rewrite': {
      const rewrite = configuration['rewrite_value'];
      if (typeof rewrite !== 'string') {
        reader.problem(`${at}.rewrite_value`, 'string_rewrite needs a rewrite_value');
        return undefined;
      }
      return allowOnly(['rewrite_value']) ? { strategy: 'fixed', value: rewrite } : undefined;
    }
    case 'hmac':
    case 'hash':
      return allowOnly(['algorithm']) && sha256() ? { strategy: 'hmac' } : undefined;
    case 'random_string_rewrite':
      return allowOnly([]) ? { strategy: 'random' } : undefined;
    default:
      reader.problem(
        `${path}.strategy`,
        `masking strategy '${strategy}' cannot be expressed (null_rewrite, string_rewrite, hmac, hash, random_string_rewrite)`,
      );
      return undefined;
  }
}
