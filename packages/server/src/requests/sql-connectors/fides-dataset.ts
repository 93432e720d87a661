import type { ConnectorTable } from '@lethe/api';
import { parse } from 'yaml';
import type { ConfigProblem } from './connector-config.js';
import { readField } from './fides-field.js';
import {
  IDENTIFIER,
  isNode,
  Reader,
  tableName,
  textOf,
  type DatasetContext,
  type FidesImportOptions,
  type Node,
} from './fides-reader.js';

/**
 * fideslang dataset YAML (ethyca/fideslang `Dataset`, `DatasetCollection`, `DatasetField`,
 * `FidesMeta`, `CollectionMeta`) read as the tables of a SQL connector. Everything a dataset says
 * either maps to the connector's config or is a problem with its YAML path; nothing that changes
 * what a request reaches or erases is ignored. docs/rights-requests.md, "Importing a fideslang
 * dataset", has the mapping.
 */

export { FIDES_DEFAULT_IDENTITIES, type FidesImportOptions } from './fides-reader.js';

export interface FidesImport {
  /** The chosen dataset's `fides_key`, `name` and `description`, when the file has them. */
  readonly dataset: { key?: string; name?: string; description?: string };
  readonly tables: ConnectorTable[];
  /** What cannot be expressed; the tables are not to be used unless this is empty. */
  readonly problems: ConfigProblem[];
  /** What was read but has no effect in Lethe (data uses, a database name), said once each. */
  readonly notes: string[];
}

// Keys that only describe (Lethe's data map and policies carry uses and subjects) are accepted.
const DATASET_KEYS = new Set([
  'fides_key',
  'organization_fides_key',
  'tags',
  'name',
  'description',
  'meta',
  'data_categories',
  'data_uses',
  'data_purposes',
  'data_subjects',
  'retention',
  'joint_controller',
  'third_country_transfers',
  'fides_meta',
  'fidesops_meta',
  'collections',
]);
const COLLECTION_KEYS = new Set([
  'name',
  'description',
  'data_categories',
  'data_uses',
  'data_purposes',
  'data_subjects',
  'fields',
  'fides_meta',
  'fidesops_meta',
]);

/** Reads a fideslang dataset file; `problems` lists everything the connector cannot express. */
export function importFidesDataset(text: string, options: FidesImportOptions = {}): FidesImport {
  const reader = new Reader(options);
  const empty = { dataset: {}, tables: [], notes: [] };
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    return { ...empty, problems: [{ path: '', message: `not YAML: ${(error as Error).message}` }] };
  }
  const list = isNode(document) ? document['dataset'] : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    return {
      ...empty,
      problems: [{ path: 'dataset', message: 'a fideslang file has a list of datasets under `dataset`' }],
    };
  }
  const keys = list.map((entry) => (isNode(entry) ? textOf(entry['fides_key']) : undefined));
  let index = 0;
  if (options.dataset !== undefined) {
    index = keys.indexOf(options.dataset);
    if (index === -1) {
      return {
        ...empty,
        problems: [
          {
            path: 'dataset',
            message: `no dataset has fides_key '${options.dataset}' (there are: ${keys.join(', ')})`,
          },
        ],
      };
    }
  } else if (list.length > 1) {
    return {
      ...empty,
      problems: [
        {
          path: 'dataset',
          message: `the file holds ${list.length} datasets (${keys.join(', ')}): choose one by its fides_key`,
        },
      ],
    };
  }
  const path = `dataset[${index}]`;
  const node: unknown = list[index];
  if (!isNode(node)) return { ...empty, problems: [{ path, message: 'a dataset is a mapping' }] };
  const tables = readDataset(reader, node, path);
  return {
    dataset: {
      ...(textOf(node['fides_key']) !== undefined ? { key: textOf(node['fides_key']) } : {}),
      ...(textOf(node['name']) !== undefined ? { name: textOf(node['name']) } : {}),
      ...(textOf(node['description']) !== undefined ? { description: textOf(node['description']) } : {}),
    },
    tables,
    problems: reader.problems,
    notes: [...reader.notes],
  };
}

function readDataset(reader: Reader, node: Node, path: string): ConnectorTable[] {
  reader.unknownKeys(node, DATASET_KEYS, path, 'dataset');
  reader.uses(node, path);
  noCategoriesAbove(reader, node, path, 'dataset');
  const { meta, path: metaPath } = reader.meta(node, path);
  let schema: string | undefined;
  for (const [key, value] of Object.entries(meta)) {
    const at = `${metaPath}.${key}`;
    if (key === 'namespace') schema = readNamespace(reader, value, at);
    else if (key === 'resource_id')
      reader.notes.add(`${at} is not used: the connector reads the database of urlEnv`);
    else if (key === 'after') {
      if (Array.isArray(value) && value.length > 0)
        reader.problem(
          at,
          'ordering after other datasets cannot be expressed: a connector is run on its own',
        );
    } else reader.problem(at, `'${key}' cannot be expressed in a connector`);
  }
  const collections = node['collections'];
  if (!Array.isArray(collections) || collections.length === 0) {
    reader.problem(`${path}.collections`, 'a dataset needs at least one collection');
    return [];
  }
  const names = new Set(collections.map((c) => (isNode(c) ? textOf(c['name']) : undefined)));
  const context: DatasetContext = { key: textOf(node['fides_key']), schema, collections: names };
  return collections.flatMap((collection, c) => {
    const at = `${path}.collections[${c}]`;
    if (!isNode(collection)) {
      reader.problem(at, 'a collection is a mapping');
      return [];
    }
    const table = readCollection(reader, collection, at, context);
    return table ? [table] : [];
  });
}

/** `namespace: {schema}` prefixes every table; the database itself is the connection string's. */
function readNamespace(reader: Reader, value: unknown, path: string): string | undefined {
  if (!isNode(value)) {
    reader.problem(path, 'must be a mapping');
    return undefined;
  }
  let schema: string | undefined;
  for (const [key, part] of Object.entries(value)) {
    if (key === 'schema') {
      if (typeof part === 'string' && IDENTIFIER.test(part)) schema = part;
      else reader.problem(`${path}.schema`, 'must be a plain SQL identifier');
    } else if (key === 'database_name' || key === 'database') {
      reader.notes.add(`${path}.${key} is not used: the connection string in urlEnv names the database`);
    } else if (key !== 'connection_type') {
      reader.problem(`${path}.${key}`, `namespace '${key}' cannot be expressed (only schema)`);
    }
  }
  return schema;
}

function noCategoriesAbove(reader: Reader, node: Node, path: string, what: string): void {
  const categories = node['data_categories'];
  if (Array.isArray(categories) && categories.length > 0) {
    reader.problem(
      `${path}.data_categories`,
      `categories on a whole ${what} cannot be expressed: put them on its fields (a key column must stay unpersonal)`,
    );
  }
}

function readCollection(
  reader: Reader,
  node: Node,
  path: string,
  context: DatasetContext,
): ConnectorTable | undefined {
  reader.unknownKeys(node, COLLECTION_KEYS, path, 'collection');
  reader.uses(node, path);
  noCategoriesAbove(reader, node, path, 'collection');
  const name = textOf(node['name']);
  if (name === undefined || !IDENTIFIER.test(name)) {
    reader.problem(`${path}.name`, 'a collection name must be a plain SQL identifier');
    return undefined;
  }
  const erase = readCollectionMeta(reader, node, path);
  const fields = node['fields'];
  if (!Array.isArray(fields) || fields.length === 0) {
    reader.problem(`${path}.fields`, 'a collection needs its fields');
    return undefined;
  }
  const table: ConnectorTable = { name: tableName(context, name), primaryKey: [], columns: {}, erase };
  const links: NonNullable<ConnectorTable['links']> = [];
  fields.forEach((field, f) => {
    const at = `${path}.fields[${f}]`;
    if (!isNode(field)) reader.problem(at, 'a field is a mapping');
    else readField(reader, field, at, context, table, links);
  });
  if (table.primaryKey.length === 0) {
    reader.problem(
      path,
      `collection '${name}' has no field with fides_meta.primary_key: true; Lethe pages and erases rows by their key`,
    );
  } else if (table.primaryKey.length > 8) {
    reader.problem(path, 'a primary key has at most 8 fields');
  }
  if (links.length > 0) table.links = links;
  return table;
}

/** fideslang masks a collection's fields unless it says `delete`: `fields` or `row`. */
function readCollectionMeta(reader: Reader, node: Node, path: string): 'fields' | 'row' {
  const { meta, path: metaPath } = reader.meta(node, path);
  let erase: 'fields' | 'row' = 'fields';
  for (const [key, value] of Object.entries(meta)) {
    const at = `${metaPath}.${key}`;
    if (key === 'masking_strategy_override') {
      const strategy = isNode(value) ? value['strategy'] : undefined;
      if (strategy === 'delete') erase = 'row';
      else
        reader.problem(
          `${at}.strategy`,
          `collection strategy '${String(strategy)}' cannot be expressed (only delete)`,
        );
    } else if (key === 'skip_processing') {
      if (value === true)
        reader.problem(
          at,
          'skip_processing cannot be expressed: leave the collection out of the file instead',
        );
    } else if (key === 'after' || key === 'erase_after') {
      if (Array.isArray(value) && value.length > 0)
        reader.problem(
          at,
          `${key} cannot be expressed: Lethe orders a run by the references (children before parents)`,
        );
    } else {
      reader.problem(at, `'${key}' cannot be expressed in a connector`);
    }
  }
  return erase;
}
