import { PII_TAG, type ConnectorInput } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import {
  deletionOrder,
  linkingColumns,
  linkPlan,
  planTables,
  seedState,
  splitReference,
  stepState,
} from './table-plan.js';

const config: ConnectorInput = {
  type: 'sqlite',
  urlEnv: 'DB',
  tables: [
    {
      name: 'customers',
      primaryKey: ['id'],
      columns: { email: ['email', PII_TAG], alt_email: ['email'], crm: ['source/crm'] },
      links: [{ column: 'address_id', references: 'addresses.id' }],
    },
    { name: 'addresses', primaryKey: ['id'], columns: {} },
    { name: 'notes', primaryKey: ['id'], columns: {} },
    {
      name: 'orders',
      primaryKey: ['id'],
      columns: {},
      links: [{ column: 'customer_id', references: 'customers.id' }],
    },
    {
      name: 'app.items',
      primaryKey: ['id'],
      columns: {},
      links: [{ column: 'order_id', references: 'orders.id', direction: 'from' }],
    },
  ],
};

describe('table plans', () => {
  const plans = planTables(config);
  const [customers, addresses, , orders, items] = plans;

  it('sorts the tags of each table, with every column of an identity, and wires links on both ends', () => {
    expect(customers?.identifierColumns.get('email')).toEqual(['email', 'alt_email']);
    expect(customers?.piiColumns).toEqual(['email']);
    expect([...(customers?.sourceKeys ?? [])]).toEqual([['source/crm', 'crm']]);
    expect(customers?.incomingLinks.map((link) => link.semantic)).toEqual(['link:orders.customer_id']);
    expect(customers?.outgoingLinks.map((link) => link.parent)).toEqual(['addresses']);
    expect(orders?.outgoingLinks).toEqual([
      {
        child: 'orders',
        childColumn: 'customer_id',
        parent: 'customers',
        parentColumn: 'id',
        up: true,
        down: true,
        semantic: 'link:orders.customer_id',
      },
    ]);
    // `from`: only from the referenced order down to its items.
    expect(items?.outgoingLinks.map(({ up, down }) => ({ up, down }))).toEqual([{ up: false, down: true }]);
  });

  it('keeps one column per address-group tag', () => {
    const [table] = planTables({
      ...config,
      tables: [
        {
          name: 't',
          primaryKey: ['id'],
          columns: { a: ['address'], b: ['address'], c: ['phone'], d: ['phone'] },
        },
      ],
    });
    expect(table?.identifierColumns.get('address')).toEqual(['a']);
    expect(table?.identifierColumns.get('phone')).toEqual(['c', 'd']);
  });

  it('orients a directed link by primary keys, whichever end declares it', () => {
    const keys = (table: string) => ({ customers: ['id'], orders: ['id'], pairs: ['a', 'b'] })[table];
    // Declared on the child, as a foreign key: `to` climbs to the customer.
    expect(
      linkPlan(
        'orders',
        { column: 'customer_id', references: 'customers.id', direction: 'to' },
        splitReference('customers.id')!,
        keys,
      ),
    ).toMatchObject({ child: 'orders', parent: 'customers', up: true, down: false });
    // Declared on the customer's key (fideslang allows either end): `to` walks down to the orders.
    expect(
      linkPlan(
        'customers',
        { column: 'id', references: 'orders.customer_id', direction: 'to' },
        splitReference('orders.customer_id')!,
        keys,
      ),
    ).toMatchObject({
      child: 'orders',
      childColumn: 'customer_id',
      parent: 'customers',
      up: false,
      down: true,
    });
    expect(
      linkPlan(
        'customers',
        { column: 'id', references: 'orders.customer_id', direction: 'from' },
        splitReference('orders.customer_id')!,
        keys,
      ),
    ).toMatchObject({ child: 'orders', parent: 'customers', up: true, down: false });
    // Neither end a single-column key: the referenced end is the parent.
    expect(
      linkPlan(
        'pairs',
        { column: 'a', references: 'orders.ref', direction: 'to' },
        splitReference('orders.ref')!,
        keys,
      ),
    ).toMatchObject({ child: 'pairs', parent: 'orders', up: true, down: false });
    // Without a direction a link keeps its old meaning, walked both ways.
    expect(
      linkPlan(
        'customers',
        { column: 'id', references: 'orders.customer_id' },
        splitReference('orders.customer_id')!,
        keys,
      ),
    ).toMatchObject({ child: 'customers', parent: 'orders', up: true, down: true });
  });

  it('collects the columns that lead on: everything from own rows, only the way up from shared ones', () => {
    expect(linkingColumns(customers!, 'own')).toEqual(['crm', 'id', 'address_id']);
    expect(linkingColumns(customers!, 'shared')).toEqual(['address_id']);
    expect(linkingColumns(addresses!, 'shared')).toEqual([]);
    expect(linkingColumns(orders!, 'own')).toEqual(['id', 'customer_id']);
    expect(linkingColumns(items!, 'own')).toEqual([]); // its only link may not be walked up
  });

  it('deletes children before parents, otherwise in config order', () => {
    expect(deletionOrder(plans).map((plan) => plan.name)).toEqual([
      'notes',
      'app.items',
      'orders',
      'customers',
      'addresses',
    ]);
  });

  it('splits schema-qualified references at the last dot', () => {
    expect(splitReference('app.items.order_id')).toEqual({ table: 'app.items', column: 'order_id' });
    expect(splitReference('items')).toBeUndefined();
    expect(splitReference('items.')).toBeUndefined();
  });
});

describe('the safe rule', () => {
  it('seeds own rows, except in a shared table', () => {
    expect(seedState(undefined)).toBe('own');
    expect(seedState('subject')).toBe('own');
    expect(seedState('shared')).toBe('shared');
  });

  it('from an own row: down and source keys reach own rows, up reaches shared ones unless owned by the subject', () => {
    expect(stepState('own', 'down', undefined)).toBe('own');
    expect(stepState('own', 'source_key', undefined)).toBe('own');
    expect(stepState('own', 'up', undefined)).toBe('shared');
    expect(stepState('own', 'up', 'subject')).toBe('own');
    expect(stepState('own', 'down', 'shared')).toBe('shared');
    expect(stepState('own', 'up', 'shared')).toBe('shared');
    expect(stepState('own', 'source_key', 'shared')).toBe('shared');
  });

  it('from a shared row: only up, to shared rows, whatever the table says', () => {
    expect(stepState('shared', 'up', undefined)).toBe('shared');
    expect(stepState('shared', 'up', 'subject')).toBe('shared');
    expect(stepState('shared', 'down', undefined)).toBeUndefined();
    expect(stepState('shared', 'down', 'subject')).toBeUndefined();
    expect(stepState('shared', 'source_key', undefined)).toBeUndefined();
  });
});
