import { PII_TAG, type ConnectorInput } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import { connectorConfigNotes, validateConnectorConfig } from './connector-config.js';

const valid: ConnectorInput = {
  type: 'postgres',
  urlEnv: 'CRM_URL',
  tables: [
    {
      name: 'customers',
      primaryKey: ['id'],
      columns: { email: ['email', PII_TAG], street: ['address'], city: ['city'], crm: ['source/crm-id'] },
    },
    {
      name: 'orders',
      primaryKey: ['id'],
      columns: {},
      links: [{ column: 'customer_id', references: 'customers.id' }],
    },
  ],
};

const withTable = (table: ConnectorInput['tables'][number]): ConnectorInput => ({
  ...valid,
  tables: [...valid.tables, table],
});

describe('validateConnectorConfig', () => {
  it('accepts a valid config', () => {
    expect(validateConnectorConfig(valid)).toEqual([]);
  });

  it('names unknown and doubled tags; an identity may be on several columns, an address part or source key not', () => {
    const problems = validateConnectorConfig(
      withTable({
        name: 'leads',
        primaryKey: ['id'],
        columns: {
          mail: ['e-mail'],
          a: ['email'],
          b: ['email'],
          c: [PII_TAG, PII_TAG],
          d: ['source/Bad'],
          e: ['address'],
          f: ['address'],
          g: ['source/crm'],
          h: ['source/crm'],
        },
      }),
    );
    expect(problems.map((problem) => problem.path)).toEqual([
      'tables[2].columns.mail[0]',
      'tables[2].columns.c[1]',
      'tables[2].columns.d[0]',
      'tables[2].columns.f[0]',
      'tables[2].columns.h[0]',
    ]);
    expect(problems[3]?.message).toMatch(/also on column 'e'/);
  });

  it('accepts directed links and table owners', () => {
    expect(
      validateConnectorConfig(
        withTable({
          name: 'profiles',
          primaryKey: ['id'],
          owner: 'subject',
          columns: {},
          links: [{ column: 'customer_id', references: 'customers.id', direction: 'from' }],
        }),
      ),
    ).toEqual([]);
  });

  it('wants an address column for the other parts of an address group', () => {
    const problems = validateConnectorConfig(
      withTable({ name: 'stores', primaryKey: ['id'], columns: { town: ['city'], zip: ['postal'] } }),
    );
    expect(problems.map((problem) => problem.path)).toEqual([
      'tables[2].columns.town[0]',
      'tables[2].columns.zip[0]',
    ]);
  });

  it('checks primary key columns', () => {
    const problems = validateConnectorConfig(
      withTable({ name: 'people', primaryKey: ['email', 'email'], columns: { email: [PII_TAG] } }),
    );
    expect(problems.map((problem) => problem.path)).toEqual([
      'tables[2].primaryKey[0]',
      'tables[2].primaryKey[1]',
      'tables[2].primaryKey[1]',
    ]);
  });

  it('checks links and duplicate table names', () => {
    const problems = validateConnectorConfig({
      ...valid,
      tables: [
        ...valid.tables,
        {
          name: 'items',
          primaryKey: ['id'],
          columns: {},
          links: [
            { column: 'order_id', references: 'orders' },
            { column: 'order_id', references: 'invoices.id' },
            { column: 'id', references: 'items.id' },
            { column: 'order_id', references: 'orders.id' },
            { column: 'order_id', references: 'orders.id' },
          ],
        },
        { name: 'orders', primaryKey: ['id'], columns: {} },
      ],
    });
    expect(problems).toEqual([
      { path: 'tables[3].name', message: "table 'orders' is also tables[1]" },
      { path: 'tables[2].links[0].references', message: "'orders' is not 'table.column'" },
      { path: 'tables[2].links[1].references', message: "table 'invoices' is not a table of this connector" },
      { path: 'tables[2].links[2].column', message: "column 'id' links to itself" },
      { path: 'tables[2].links[4]', message: 'this link is declared twice' },
    ]);
  });

  it('explains what links without a direction now mean, and says nothing for directed ones', () => {
    const [note, ...more] = connectorConfigNotes(valid);
    expect(more).toEqual([]);
    expect(note).toMatch(
      /^1 link\(s\) without a direction \(tables\[1\]\.links\[0\]\) are walked under the safe rule/,
    );
    const directed = structuredClone(valid);
    directed.tables[1]!.links = [{ column: 'customer_id', references: 'customers.id', direction: 'from' }];
    expect(connectorConfigNotes(directed)).toEqual([]);
  });
});
