import { PII_TAG, type ConnectorInput } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import { deletionOrder, linkingColumns, linksFollowed, planTables, splitReference } from './table-plan.js';

const config: ConnectorInput = {
  type: 'sqlite',
  urlEnv: 'DB',
  tables: [
    { name: 'customers', primaryKey: ['id'], columns: { email: ['email', PII_TAG], crm: ['source/crm'] } },
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
      links: [{ column: 'order_id', references: 'orders.id' }],
    },
  ],
};

describe('table plans', () => {
  const plans = planTables(config);

  it('sorts the tags of each table and wires links on both ends', () => {
    const [customers, , orders] = plans;
    expect(customers?.identifierColumns.get('email')).toBe('email');
    expect(customers?.piiColumns).toEqual(['email']);
    expect([...(customers?.sourceKeys ?? [])]).toEqual([['source/crm', 'crm']]);
    expect(customers?.incomingLinks.map((link) => link.semantic)).toEqual(['link:orders.customer_id']);
    expect(orders?.outgoingLinks).toEqual([
      {
        table: 'orders',
        column: 'customer_id',
        referencedTable: 'customers',
        referencedColumn: 'id',
        semantic: 'link:orders.customer_id',
      },
    ]);
  });

  it('follows links both ways with the connected strategy, and to children for an exact delete', () => {
    expect(linksFollowed('dsar', 'exact')).toBe('none');
    expect(linksFollowed('delete_pii', 'exact')).toBe('none');
    expect(linksFollowed('delete', 'exact')).toBe('children');
    expect(linksFollowed('dsar', 'connected')).toBe('both');
    expect(linkingColumns(plans[0]!, 'none')).toEqual(['crm']);
    expect(linkingColumns(plans[0]!, 'children')).toEqual(['crm', 'id']);
    expect(linkingColumns(plans[0]!, 'both')).toEqual(['crm', 'id']);
    expect(linkingColumns(plans[2]!, 'both').sort()).toEqual(['customer_id', 'id']);
    expect(linkingColumns(plans[2]!, 'children')).toEqual(['id']);
  });

  it('deletes children before parents, otherwise in config order', () => {
    expect(deletionOrder(plans).map((plan) => plan.name)).toEqual([
      'notes',
      'app.items',
      'orders',
      'customers',
    ]);
  });

  it('splits schema-qualified references at the last dot', () => {
    expect(splitReference('app.items.order_id')).toEqual({ table: 'app.items', column: 'order_id' });
    expect(splitReference('items')).toBeUndefined();
    expect(splitReference('items.')).toBeUndefined();
  });
});
