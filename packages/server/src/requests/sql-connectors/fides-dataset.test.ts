import { describe, expect, it } from 'vitest';
import { FIDES_SHOP_DATASET, FIDES_SHOP_TABLES } from '../../../test/support/fides-shop-dataset.js';
import { Taxonomy } from '../../lib/taxonomy.js';
import { validateConnectorConfig } from './connector-config.js';
import { importFidesDataset } from './fides-dataset.js';

const categories = Taxonomy.dataCategories();

/** A one-collection dataset around `fields` (YAML, indented for a field list) and `meta`. */
function dataset(fields: string, collectionMeta = '', datasetMeta = ''): string {
  return `
dataset:
  - fides_key: db
${datasetMeta}
    collections:
      - name: people
${collectionMeta}
        fields:
          - name: id
            fides_meta: { primary_key: true }
${fields}`;
}

const paths = (text: string, options = {}) =>
  importFidesDataset(text, { categories, ...options }).problems.map((p) => p.path);

describe('importFidesDataset', () => {
  it('reads a Fides-style shop dataset as the exact connector tables', () => {
    const result = importFidesDataset(FIDES_SHOP_DATASET, { categories });
    expect(result.problems).toEqual([]);
    expect(result.tables).toEqual(FIDES_SHOP_TABLES);
    expect(result.dataset).toEqual({
      key: 'shop_db',
      name: 'Shop database',
      description: "The web shop's PostgreSQL database",
    });
    // The key's user.unique_id is said, not silently lost.
    expect(result.notes.join('\n')).toContain("user.* categories of key column 'id'");
    const config = { type: 'sqlite' as const, urlEnv: 'SHOP_URL', tables: result.tables };
    expect(validateConnectorConfig(config)).toEqual([]);
  });

  it('prefixes the namespace schema to tables and references, and notes the database name', () => {
    const text = dataset(
      `          - name: boss_id
            fides_meta: { references: [{ dataset: db, field: people.id, direction: to }] }`,
      '',
      '    fides_meta: { namespace: { schema: crm, database_name: prod } }',
    );
    const result = importFidesDataset(text, { categories });
    expect(result.problems).toEqual([]);
    expect(result.tables[0]).toMatchObject({
      name: 'crm.people',
      links: [{ column: 'boss_id', references: 'crm.people.id', direction: 'to' }],
    });
    expect(result.notes.join('\n')).toContain('database_name is not used');
  });

  it('maps other identities only when told, and refuses an unmapped one', () => {
    const text = dataset(`          - name: uid
            fides_meta: { identity: user_id }`);
    expect(importFidesDataset(text, { categories }).problems).toEqual([
      {
        path: 'dataset[0].collections[0].fields[1].fides_meta.identity',
        message: expect.stringContaining("identity 'user_id' has no Lethe identifier") as string,
      },
    ]);
    const mapped = importFidesDataset(text, { categories, identities: { user_id: 'subject-id' } });
    expect(mapped.problems).toEqual([]);
    expect(mapped.tables[0]?.columns).toEqual({ uid: ['subject-id'] });
  });

  it('maps each masking strategy, and refuses those it cannot express', () => {
    const field = (name: string, override: string) => `          - name: ${name}
            data_categories: [user.name]
            fides_meta: { masking_strategy_override: ${override} }`;
    const text = dataset(
      [
        field('a', '{ strategy: hash }'),
        field('b', '{ strategy: aes_encrypt, configuration: { mode: GCM } }'),
        field('c', '{ strategy: hmac, configuration: { algorithm: SHA-512 } }'),
        field('d', '{ strategy: random_string_rewrite, configuration: { length: 12 } }'),
        field('e', '{ strategy: string_rewrite }'),
      ].join('\n'),
    );
    const result = importFidesDataset(text, { categories });
    expect(result.problems.map((p) => p.path)).toEqual([
      'dataset[0].collections[0].fields[2].fides_meta.masking_strategy_override.strategy',
      'dataset[0].collections[0].fields[3].fides_meta.masking_strategy_override.configuration.algorithm',
      'dataset[0].collections[0].fields[4].fides_meta.masking_strategy_override.configuration.length',
      'dataset[0].collections[0].fields[5].fides_meta.masking_strategy_override.configuration.rewrite_value',
    ]);
    expect(result.tables[0]?.columns['a']).toEqual({ categories: ['user.name'], mask: { strategy: 'hmac' } });
  });

  it('refuses every construct a connector cannot express, each at its YAML path, all at once', () => {
    const text = `
dataset:
  - fides_key: db
    data_categories: [user]
    fides_meta: { after: [other_db], namespace: { project_id: p } }
    collections:
      - name: people
        data_categories: [user.name]
        fides_meta:
          after: [db.orders]
          erase_after: [db.orders]
          skip_processing: true
          masking_strategy_override: { strategy: rewrite }
        fields:
          - name: id
            fides_meta: { primary_key: true }
          - name: profile
            fides_meta: { data_type: object }
            fields:
              - name: bio
          - name: tags
            fides_meta: { data_type: 'string[]', return_all_elements: true }
          - name: frozen
            data_categories: [user.name]
            fides_meta: { read_only: true, custom_request_field: tenant }
          - name: other_id
            fides_meta:
              references:
                - { dataset: other_db, field: customer.id, direction: to }
                - { dataset: db, field: people.profile.id }
                - { dataset: db, field: nowhere.id, direction: sideways }
          - name: colour
            data_categories: [user.favourite_colour]
          - name: note
            fides_mata: { identity: email }
      - name: keyless
        fields:
          - name: email
            fides_meta: { identity: email }
`;
    expect(paths(text)).toEqual([
      'dataset[0].data_categories',
      'dataset[0].fides_meta.after',
      'dataset[0].fides_meta.namespace.project_id',
      'dataset[0].collections[0].data_categories',
      'dataset[0].collections[0].fides_meta.after',
      'dataset[0].collections[0].fides_meta.erase_after',
      'dataset[0].collections[0].fides_meta.skip_processing',
      'dataset[0].collections[0].fides_meta.masking_strategy_override.strategy',
      'dataset[0].collections[0].fields[1].fields',
      'dataset[0].collections[0].fields[1].fides_meta.data_type',
      'dataset[0].collections[0].fields[2].fides_meta.data_type',
      'dataset[0].collections[0].fields[2].fides_meta.return_all_elements',
      'dataset[0].collections[0].fields[3].fides_meta.read_only',
      'dataset[0].collections[0].fields[3].fides_meta.custom_request_field',
      'dataset[0].collections[0].fields[4].fides_meta.references[0].dataset',
      'dataset[0].collections[0].fields[4].fides_meta.references[1].field',
      'dataset[0].collections[0].fields[4].fides_meta.references[2].field',
      'dataset[0].collections[0].fields[4].fides_meta.references[2].direction',
      'dataset[0].collections[0].fields[5].data_categories[0]',
      'dataset[0].collections[0].fields[6].fides_mata',
      'dataset[0].collections[1]',
    ]);
    const problems = importFidesDataset(text, { categories }).problems;
    expect(problems.find((p) => p.path.endsWith('references[0].dataset'))?.message).toContain("'other_db'");
    expect(problems.at(-1)?.message).toContain(
      "collection 'keyless' has no field with fides_meta.primary_key",
    );
  });

  it('asks which dataset when a file holds several, and reads the one named', () => {
    const two = `dataset:\n  - fides_key: a\n    collections: []\n  - fides_key: b\n    collections: []\n`;
    expect(importFidesDataset(two).problems[0]?.message).toContain('choose one by its fides_key');
    expect(paths(two, { dataset: 'b' })).toEqual(['dataset[1].collections']);
    expect(paths('just: text')).toEqual(['dataset']);
  });
});
