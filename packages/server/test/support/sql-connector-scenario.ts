import { PII_TAG, type ConnectorInput, type Identifiers } from '@lethe/api';
import type { FoundRecord } from '../../src/requests/found-record.js';
import type { TestSqlDatabase } from './sql-databases.js';

/**
 * The customer database the SQL connector tests run against, on every kind of database: its
 * connector configuration, the scenario's tables and rows, and the records each strategy finds.
 */

export const config = (type: ConnectorInput['type']): ConnectorInput => ({
  type,
  urlEnv: 'CRM_DATABASE_URL',
  tables: [
    {
      name: 'customers',
      primaryKey: ['id'],
      columns: {
        name: [PII_TAG],
        email: ['email', PII_TAG],
        phone: ['phone', PII_TAG],
        street: ['address', PII_TAG],
        street2: ['address2', PII_TAG],
        city: ['city'],
        state: ['state'],
        zip: ['postal'],
        country: ['country'],
        crm_id: ['source/crm-id'],
        ext_ref: ['custom-key'],
      },
    },
    {
      name: 'loyalty',
      primaryKey: ['card_no'],
      columns: {
        crm_id: ['source/crm-id'],
        pos_id: ['source/pos-id'],
        member_name: [PII_TAG],
        card_image: [PII_TAG],
      },
    },
    {
      name: 'orders',
      primaryKey: ['id'],
      columns: { shipping_email: ['email', PII_TAG] },
      links: [{ column: 'customer_id', references: 'customers.id' }],
    },
    {
      name: 'accounts',
      primaryKey: ['tenant', 'account_no'],
      columns: { account_key: ['custom-key-2'], holder: [PII_TAG] },
    },
    { name: 'receipts', primaryKey: ['id'], columns: { pos_id: ['source/pos-id'] } },
    // Listed after its parent on purpose: deletion must still start with it (a real foreign key).
    {
      name: 'shipments',
      primaryKey: ['id'],
      columns: {},
      links: [{ column: 'order_id', references: 'orders.id' }],
    },
  ],
});

export const identifiers: Identifiers = {
  email: 'alice@example.com',
  phone: '+14155550101',
  address: { address: '1 Main St', city: 'Springfield', state: 'IL', postal: '62701', country: 'US' },
  customKey: 'CK-1',
  customKey2: 'AbC-9',
};
const ADDRESS = '1 Main St, Springfield, IL, 62701, US';

export async function createScenario(database: TestSqlDatabase): Promise<void> {
  const { text, blob } = database.types;
  await database.exec(
    `create table customers (id integer primary key, name ${text}, email ${text}, phone ${text}, street ${text},
       street2 ${text}, city ${text}, state ${text}, zip ${text}, country ${text}, crm_id ${text}, ext_ref ${text},
       notes ${text})`,
    `create table loyalty (card_no ${text} not null primary key, crm_id ${text}, pos_id ${text}, member_name ${text},
       points integer, card_image ${blob})`,
    `create table orders (id integer primary key, customer_id integer, shipping_email ${text}, amount integer)`,
    `create table accounts (tenant ${text} not null, account_no integer not null, account_key ${text}, holder ${text},
       primary key (tenant, account_no))`,
    `create table receipts (id integer primary key, pos_id ${text}, total integer)`,
    `create table shipments (id integer primary key, order_id integer not null, carrier ${text},
       foreign key (order_id) references orders (id))`,
  );
  const customer = (id: number, name: string, fields: Record<string, string | null>) => ({
    id,
    name,
    email: null,
    phone: null,
    street: null,
    street2: null,
    city: null,
    state: null,
    zip: null,
    country: null,
    crm_id: `crm-${id}`,
    ext_ref: null,
    notes: `note ${id}`,
    ...fields,
  });
  const springfield = { city: 'Springfield', state: 'IL', zip: '62701' };
  await database.db
    .insertInto('customers')
    .values([
      customer(1, 'Alice', { email: 'Alice@Example.COM', phone: '+14155550000' }), // email in another case
      customer(2, 'Bob', { email: 'bob@example.org', phone: '+14155550101' }),
      customer(3, 'Carol', {
        street: '  1 main st ',
        city: 'SPRINGFIELD',
        state: 'il',
        zip: '62701',
        country: 'us',
      }),
      customer(4, 'Dave', { street: '1 Main St', ...springfield }), // no country: partial, no match
      customer(5, 'Erin', { street: '1 Main St', street2: 'Apt 2', ...springfield, country: 'US' }), // extra part
      customer(6, 'Frank', { email: 'frank@example.net' }),
      customer(7, 'Grace', { ext_ref: 'CK-1' }),
      customer(8, 'Heidi', { ext_ref: 'ck-1' }), // custom keys are case-sensitive
      customer(9, 'Ivan', { email: 'alice@example.com.au' }),
      customer(10, 'Judy', { street: '1 Main St', street2: '', ...springfield, country: 'US' }), // blank = NULL
    ])
    .execute();
  await database.db
    .insertInto('loyalty')
    .values([
      {
        card_no: 'L-1',
        crm_id: 'crm-1',
        pos_id: 'P-1',
        member_name: 'Alice A',
        points: 10,
        card_image: Buffer.from([1, 2, 3]),
      },
      { card_no: 'L-2', crm_id: 'crm-2', pos_id: null, member_name: 'Bob B', points: 20, card_image: null },
      { card_no: 'L-9', crm_id: 'crm-9', pos_id: 'P-9', member_name: 'Ivan I', points: 90, card_image: null },
    ])
    .execute();
  await database.db
    .insertInto('orders')
    .values([
      { id: 10, customer_id: 1, shipping_email: null, amount: 100 },
      { id: 11, customer_id: 2, shipping_email: null, amount: 110 },
      { id: 12, customer_id: 6, shipping_email: 'ALICE@example.com', amount: 120 }, // a gift to Alice
      { id: 13, customer_id: 6, shipping_email: null, amount: 130 },
      { id: 14, customer_id: 4, shipping_email: null, amount: 140 },
      { id: 15, customer_id: 7, shipping_email: null, amount: 150 },
      { id: 16, customer_id: 8, shipping_email: null, amount: 160 },
    ])
    .execute();
  await database.db
    .insertInto('accounts')
    .values([
      { tenant: 't1', account_no: 1, account_key: 'AbC-9', holder: 'Alice' },
      { tenant: 't1', account_no: 2, account_key: 'abc-9', holder: 'Someone' },
      { tenant: 't2', account_no: 1, account_key: 'ABC-9', holder: 'Other' },
    ])
    .execute();
  await database.db
    .insertInto('receipts')
    .values([
      { id: 1000, pos_id: 'P-1', total: 5 },
      { id: 1002, pos_id: 'P-9', total: 9 },
    ])
    .execute();
  await database.db
    .insertInto('shipments')
    .values([
      { id: 100, order_id: 10, carrier: 'ups' },
      { id: 101, order_id: 13, carrier: 'dhl' },
      { id: 102, order_id: 14, carrier: 'ups' },
    ])
    .execute();
}

export type Expected = Pick<
  FoundRecord,
  'datasource' | 'pk' | 'matchCategory' | 'semantic' | 'semanticValue' | 'kept'
>;
export const record = (
  table: string,
  pk: string,
  matchCategory: FoundRecord['matchCategory'],
  semantic: string,
  semanticValue: string,
): Expected => ({ datasource: `crm.${table}`, pk, matchCategory, semantic, semanticValue });
export const shared = (expected: Expected): Expected => ({ ...expected, kept: 'shared' });

/**
 * Every request type and both strategies reach the same rows: the direct matches, what shares a
 * source key with them, and the links walked under the safe rule. Down from the matched customers
 * 1, 2 and 7 to their orders and on to order 10's shipment (own rows). Up from the gift order 12
 * (a direct match) to the customer who placed it, Frank (6): a shared row, read but never changed,
 * and never walked down from, so Frank's order 13 and its shipment are not reached. The connected
 * strategy adds the identifiers found in own rows (Bob's e-mail, Alice's other phone), which here
 * find no further rows.
 */
export const REACHED: Expected[] = [
  record('customers', '1', 'direct', 'email', 'alice@example.com'),
  record('customers', '2', 'direct', 'phone', '+14155550101'),
  record('customers', '3', 'direct', 'address', ADDRESS),
  record('customers', '7', 'direct', 'custom-key', 'CK-1'),
  record('customers', '10', 'direct', 'address', ADDRESS),
  record('orders', '12', 'direct', 'email', 'alice@example.com'),
  record('loyalty', 'L-1', 'source_key', 'source/crm-id', 'crm-1'),
  record('loyalty', 'L-2', 'source_key', 'source/crm-id', 'crm-2'),
  record('receipts', '1000', 'source_key', 'source/pos-id', 'P-1'),
  record('accounts', 'tenant=t1,account_no=1', 'direct', 'custom-key-2', 'AbC-9'),
  record('orders', '10', 'connected', 'link:orders.customer_id', '1'),
  record('orders', '11', 'connected', 'link:orders.customer_id', '2'),
  record('orders', '15', 'connected', 'link:orders.customer_id', '7'),
  record('shipments', '100', 'connected', 'link:shipments.order_id', '10'),
  shared(record('customers', '6', 'connected', 'link:orders.customer_id', '6')),
];
export const ERASED = REACHED.filter((found) => found.kept === undefined);
export const PII_COLUMNS: Record<string, string[]> = {
  customers: ['name', 'email', 'phone', 'street', 'street2'],
  loyalty: ['member_name', 'card_image'],
  orders: ['shipping_email'],
  accounts: ['holder'],
  receipts: [],
  shipments: [],
};
export const byKey = (a: Expected, b: Expected) =>
  `${a.datasource} ${a.pk}`.localeCompare(`${b.datasource} ${b.pk}`, 'en', { numeric: true });
