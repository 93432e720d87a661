import { PII_TAG, type ConnectorInput, type ConnectorTable } from '@lethe/api';
import { sql } from 'kysely';
import { toJsonSafe } from '../../src/requests/sql-connectors/record-values.js';
import type { TestSqlDatabase } from './sql-databases.js';

/**
 * A shop schema where people share parent rows (issue 15), created identically on PostgreSQL,
 * MariaDB and SQLite:
 * - customers 1 (Ada) and 2 (Bob) live at address 1; Ada has two more accounts: 4 (whose
 *   `alt_email` is Ada's e-mail) and 5 (whose `email` is customer 1's `alt_email`), both at address 3;
 * - employee 1 (Eve) serves Ada and Bob, employee 2 (Mo) serves Cy (3) and Ada's account 5;
 *   customer 3's `alt_email` is Eve's e-mail, so a walk that takes identifiers from a shared
 *   employee row would reach Cy;
 * - products 1 and 2 are in Ada's and Bob's orders; order 13 is Cy's gift to Ada (its
 *   `ship_email` is Ada's), so it is an identity match whose customer is someone else;
 * - payment cards hold a holder name but no e-mail; logins live in a non-default schema (crm on
 *   PostgreSQL, a second database on MariaDB); visits reference customers by a text column (a link across column types):
 *   visit 7 (a guest checkout with Ada's e-mail) holds a reference that is no customer id at all,
 *   visit 14 (Ada's too) `'05'`, and visits 8-13 references that are customer 2 only as numbers
 *   (`'02'`, `' 2'`, `'2.0'`, `'+2'`, `'2 '`) or out of an integer's range: compared in the
 *   referenced column's type, none reaches a customer, and no customer reaches them;
 * - Mo reports to Eve (a self-reference): from Eve, shared, no walk goes down to Mo;
 * - newsletter sign-ups carry only a subject id, found in customers: `connected` reaches them.
 *
 * SQLite cannot hold the logins table in another schema for the connector: an ATTACHed database
 * exists only on the connection that attached it, and the connector opens its own. There the
 * table is named `main.logins`: schema-qualified, but in the default schema.
 */

export type Row = Record<string, unknown>;
/** Every table's rows, JSON-safe, ordered by id; keyed by logical table name. */
export type Dump = Record<string, Row[]>;

export const LOGICAL_TABLES = [
  'addresses',
  'profiles',
  'customers',
  'employees',
  'service_requests',
  'products',
  'orders',
  'order_items',
  'payment_cards',
  'logins',
  'visits',
  'newsletter',
] as const;
export type LogicalTable = (typeof LOGICAL_TABLES)[number];

/** The columns tagged `compliance/pii` in both configs: what delete_pii sets to NULL. */
export const PII_COLUMNS: Readonly<Record<LogicalTable, readonly string[]>> = {
  addresses: ['street'],
  profiles: ['bio'],
  customers: ['email', 'alt_email', 'name'],
  employees: ['email', 'name'],
  service_requests: ['summary'],
  products: [],
  orders: ['ship_email', 'ship_name'],
  order_items: [],
  payment_cards: ['holder', 'token'],
  logins: ['username'],
  visits: ['email', 'ip'],
  newsletter: ['greeting'],
};

export interface SharedParentsSchema {
  /** The name the connector config and the SQL use for each table. */
  readonly tableName: Readonly<Record<LogicalTable, string>>;
  /** Drops and recreates every table with the fixture data. */
  reset(): Promise<void>;
  dump(): Promise<Dump>;
  /** Links without a direction, no owners: a config written before directions existed. */
  legacyConfig(): ConnectorInput;
  /** Directed references (fideslang's `to`/`from`), profiles owned by their customer, shared parents named. */
  directedConfig(): ConnectorInput;
  /** Drops what lives outside the test database (MariaDB's second database). */
  dispose(): Promise<void>;
}

const ADDRESSES = [
  { id: 1, street: '1 Elm St', city: 'Springfield' },
  { id: 2, street: '9 Oak Ave', city: 'Shelbyville' },
  { id: 3, street: '5 Pine Rd', city: 'Ogdenville' },
];
const PROFILES = [
  { id: 1, bio: 'Ada bio', theme: 'dark' },
  { id: 2, bio: 'Bob bio', theme: 'light' },
  { id: 3, bio: 'Cy bio', theme: 'dark' },
  { id: 4, bio: 'Ada old bio', theme: 'light' },
];
const customer = (
  id: number,
  email: string,
  altEmail: string | null,
  name: string,
  addressId: number,
  profileId: number | null,
  subjectId: string | null,
  notes: string,
) => ({
  id,
  email,
  alt_email: altEmail,
  name,
  address_id: addressId,
  profile_id: profileId,
  subject_id: subjectId,
  notes,
});
const CUSTOMERS = [
  customer(1, 'ada@example.com', 'ada.l@work.example', 'Ada Lovelace', 1, 1, 'S-ADA', 'vip'),
  customer(2, 'bob@example.com', null, 'Bob Byte', 1, 2, 'S-BOB', 'lives with Ada'),
  customer(
    3,
    'cy@example.com',
    'eve@shop.example',
    'Cy Clone',
    2,
    3,
    'S-CY',
    'alt e-mail is an employee one',
  ),
  customer(4, 'a.lovelace@old.example', 'ada@example.com', 'A. Lovelace', 3, 4, null, 'old account'),
  customer(5, 'ada.l@work.example', null, 'Ada L.', 3, null, null, 'work account'),
];
const EMPLOYEES = [
  { id: 1, email: 'eve@shop.example', name: 'Eve Agent', team: 'support', manager_id: null },
  { id: 2, email: 'mo@shop.example', name: 'Mo Agent', team: 'sales', manager_id: 1 },
];
const SERVICE_REQUESTS = [
  { id: 1, customer_id: 1, employee_id: 1, summary: 'Kettle leaks', status: 'open' },
  { id: 2, customer_id: 2, employee_id: 1, summary: 'Lamp flickers', status: 'closed' },
  { id: 3, customer_id: 3, employee_id: 2, summary: 'Refund', status: 'open' },
  { id: 4, customer_id: 5, employee_id: 2, summary: 'Invoice copy', status: 'closed' },
];
const PRODUCTS = [
  { id: 1, title: 'Kettle', price_cents: 2500 },
  { id: 2, title: 'Lamp', price_cents: 4000 },
  { id: 3, title: 'Mug', price_cents: 800 },
];
const order = (id: number, customerId: number, total: number, shipEmail = null as string | null) => ({
  id,
  customer_id: customerId,
  ship_email: shipEmail,
  ship_name: shipEmail === null ? null : 'Ada Lovelace',
  total_cents: total,
});
const ORDERS = [
  order(10, 1, 6500),
  order(11, 2, 2500),
  order(12, 5, 800),
  order(13, 3, 4000, 'ada@example.com'),
  order(14, 3, 1600),
];
const ORDER_ITEMS = [
  { id: 100, order_id: 10, product_id: 1, quantity: 1 },
  { id: 101, order_id: 10, product_id: 2, quantity: 1 },
  { id: 102, order_id: 11, product_id: 1, quantity: 1 },
  { id: 103, order_id: 12, product_id: 3, quantity: 1 },
  { id: 104, order_id: 13, product_id: 2, quantity: 1 },
  { id: 105, order_id: 14, product_id: 3, quantity: 2 },
];
const PAYMENT_CARDS = [
  { id: 1, customer_id: 1, holder: 'ADA LOVELACE', last4: '1111', token: Buffer.from([1, 2, 3]) },
  { id: 2, customer_id: 2, holder: 'BOB BYTE', last4: '2222', token: Buffer.from([4, 5]) },
  { id: 3, customer_id: 5, holder: 'ADA L', last4: '5555', token: null },
  { id: 4, customer_id: 3, holder: 'CY CLONE', last4: '3333', token: Buffer.from([9]) },
];
const LOGINS = [
  { id: 1, customer_id: 1, username: 'ada', last_login: '2024-05-01 10:00:00' },
  { id: 2, customer_id: 2, username: 'bob', last_login: '2024-05-02 11:00:00' },
  { id: 3, customer_id: 4, username: 'ada_old', last_login: '2019-01-01 00:00:00' },
  { id: 4, customer_id: 3, username: 'cy', last_login: '2024-05-03 12:00:00' },
];
const visit = (id: number, customerRef: string, page: string, ip: string, email: string | null = null) => ({
  id,
  customer_ref: customerRef,
  email,
  page,
  ip,
});
const VISITS = [
  visit(1, '1', '/home', '10.0.0.1'),
  visit(2, '2', '/cart', '10.0.0.2'),
  visit(3, '1', '/checkout', '10.0.0.1'),
  visit(4, '4', '/home', '10.0.0.4'),
  visit(5, '3', '/help', '10.0.0.3'),
  visit(6, '5', '/work', '10.0.0.5'),
  // A guest checkout: the reference holds no customer id at all, the e-mail is Ada's.
  visit(7, 'guest-7', '/guest-checkout', '10.0.0.7', 'ada@example.com'),
  // Nobody's visits whose references only a numeric comparison makes customer 2's (MariaDB compared
  // text with integers as numbers), or that no integer column can hold (PostgreSQL failed on them).
  visit(8, '02', '/zero-padded', '10.0.0.8'),
  visit(9, ' 2', '/leading-space', '10.0.0.9'),
  visit(10, '2.0', '/decimal', '10.0.0.10'),
  visit(11, '+2', '/plus', '10.0.0.11'),
  visit(12, '2 ', '/trailing-space', '10.0.0.12'),
  visit(13, '99999999999', '/out-of-range', '10.0.0.13'),
  // Ada's (her e-mail) with a reference that is customer 5 only as a number: walking up from it
  // reaches no customer.
  visit(14, '05', '/typo', '10.0.0.14', 'ada@example.com'),
];
const NEWSLETTER = [
  { id: 1, subject_id: 'S-ADA', greeting: 'Dear Ada', topic: 'news' },
  { id: 2, subject_id: 'S-BOB', greeting: 'Hi Bob', topic: 'deals' },
  { id: 3, subject_id: 'S-CY', greeting: 'Hey Cy', topic: 'news' },
];
const DATA: Readonly<Record<LogicalTable, readonly Row[]>> = {
  addresses: ADDRESSES,
  profiles: PROFILES,
  customers: CUSTOMERS,
  employees: EMPLOYEES,
  service_requests: SERVICE_REQUESTS,
  products: PRODUCTS,
  orders: ORDERS,
  order_items: ORDER_ITEMS,
  payment_cards: PAYMENT_CARDS,
  logins: LOGINS,
  visits: VISITS,
  newsletter: NEWSLETTER,
};

/** Where the logins table lives, and how its foreign key names customers, per database. */
interface Placement {
  readonly logins: string;
  readonly customersFromLogins: string;
  readonly before: string[];
  readonly drop: string[];
}

function placement(database: TestSqlDatabase): Placement {
  if (database.type === 'postgres') {
    return {
      logins: 'crm.logins',
      customersFromLogins: 'public.customers',
      before: ['create schema if not exists crm'],
      drop: [],
    };
  }
  if (database.type === 'mysql') {
    const main = new URL(database.url).pathname.slice(1);
    const second = `${main}_crm`;
    return {
      logins: `${second}.logins`,
      customersFromLogins: `${main}.customers`,
      before: [`create database if not exists ${second}`],
      drop: [`drop database if exists ${second}`],
    };
  }
  return { logins: 'main.logins', customersFromLogins: 'customers', before: [], drop: [] };
}

function ddl(database: TestSqlDatabase, where: Placement): string[] {
  const { text, blob } = database.types;
  const fk = (column: string, target: string) => `foreign key (${column}) references ${target} (id)`;
  return [
    `create table addresses (id integer primary key, street ${text}, city ${text})`,
    `create table profiles (id integer primary key, bio ${text}, theme ${text})`,
    `create table customers (id integer primary key, email ${text}, alt_email ${text}, name ${text},
       address_id integer, profile_id integer, subject_id ${text}, notes ${text},
       ${fk('address_id', 'addresses')}, ${fk('profile_id', 'profiles')})`,
    `create table employees (id integer primary key, email ${text}, name ${text}, team ${text},
       manager_id integer, ${fk('manager_id', 'employees')})`,
    `create table service_requests (id integer primary key, customer_id integer not null, employee_id integer,
       summary ${text}, status ${text}, ${fk('customer_id', 'customers')}, ${fk('employee_id', 'employees')})`,
    `create table products (id integer primary key, title ${text}, price_cents integer)`,
    `create table orders (id integer primary key, customer_id integer not null, ship_email ${text},
       ship_name ${text}, total_cents integer, ${fk('customer_id', 'customers')})`,
    `create table order_items (id integer primary key, order_id integer not null, product_id integer not null,
       quantity integer, ${fk('order_id', 'orders')}, ${fk('product_id', 'products')})`,
    `create table payment_cards (id integer primary key, customer_id integer not null, holder ${text},
       last4 ${text}, token ${blob}, ${fk('customer_id', 'customers')})`,
    `create table ${where.logins} (id integer primary key, customer_id integer not null, username ${text},
       last_login ${text}, ${fk('customer_id', where.customersFromLogins)})`,
    // No foreign key: a text column cannot reference an integer one. The link is only in the config.
    `create table visits (id integer primary key, customer_ref ${text}, email ${text}, page ${text}, ip ${text})`,
    `create table newsletter (id integer primary key, subject_id ${text}, greeting ${text}, topic ${text})`,
  ];
}

export function sharedParentsSchema(database: TestSqlDatabase): SharedParentsSchema {
  const where = placement(database);
  const tableName = Object.fromEntries(
    LOGICAL_TABLES.map((table) => [table, table === 'logins' ? where.logins : table]),
  ) as Record<LogicalTable, string>;
  const run = async (statements: readonly string[]) => {
    for (const statement of statements) await sql.raw(statement).execute(database.db);
  };
  return {
    tableName,
    async reset() {
      await run(where.before);
      await run([...LOGICAL_TABLES].reverse().map((table) => `drop table if exists ${tableName[table]}`));
      await run(ddl(database, where));
      for (const table of LOGICAL_TABLES) {
        await database.db
          .insertInto(tableName[table])
          .values([...DATA[table]])
          .execute();
      }
    },
    async dump() {
      const dump: Dump = {};
      for (const table of LOGICAL_TABLES) {
        const { rows } = await sql<Row>`select * from ${sql.table(tableName[table])} order by id`.execute(
          database.db,
        );
        dump[table] = rows.map((row) => toJsonSafe(row) as Row);
      }
      return dump;
    },
    legacyConfig: () => connectorConfig(database.type, tableName, false),
    directedConfig: () => connectorConfig(database.type, tableName, true),
    dispose: () => run(where.drop),
  };
}

type Link = NonNullable<ConnectorTable['links']>[number];

function connectorConfig(
  type: ConnectorInput['type'],
  tableName: Readonly<Record<LogicalTable, string>>,
  directed: boolean,
): ConnectorInput {
  // `to`: from the declaring row up to the row it references; `from`: from the referenced row down.
  const link = (column: string, references: string, direction: 'to' | 'from'): Link =>
    directed
      ? { column, references: `${references}.id`, direction }
      : { column, references: `${references}.id` };
  const owner = (value: ConnectorTable['owner']) => (directed ? { owner: value } : {});
  const table = (
    logical: LogicalTable,
    columns: ConnectorTable['columns'],
    links: Link[] = [],
    extra: Partial<ConnectorTable> = {},
  ): ConnectorTable => ({
    name: tableName[logical],
    primaryKey: ['id'],
    columns,
    ...(links.length > 0 ? { links } : {}),
    ...extra,
  });
  return {
    type,
    urlEnv: 'SHOP_DATABASE_URL',
    tables: [
      table('addresses', { street: [PII_TAG] }, [], owner('shared')),
      table('profiles', { bio: [PII_TAG] }, [], owner('subject')),
      table(
        'customers',
        {
          email: ['email', PII_TAG],
          alt_email: ['email', PII_TAG],
          name: [PII_TAG],
          subject_id: ['subject-id'],
        },
        [link('address_id', 'addresses', 'to'), link('profile_id', 'profiles', 'to')],
      ),
      table(
        'employees',
        { email: ['email', PII_TAG], name: [PII_TAG] },
        [link('manager_id', 'employees', 'to')],
        owner('shared'),
      ),
      table('service_requests', { summary: [PII_TAG] }, [
        link('customer_id', 'customers', 'from'),
        link('employee_id', 'employees', 'to'),
      ]),
      table('products', {}, [], owner('shared')),
      table('orders', { ship_email: ['email', PII_TAG], ship_name: [PII_TAG] }, [
        link('customer_id', 'customers', 'from'),
      ]),
      table('order_items', {}, [link('order_id', 'orders', 'from'), link('product_id', 'products', 'to')]),
      table('payment_cards', { holder: [PII_TAG], token: [PII_TAG] }, [
        link('customer_id', 'customers', 'from'),
      ]),
      table('logins', { username: [PII_TAG] }, [link('customer_id', 'customers', 'from')]),
      table('visits', { email: ['email', PII_TAG], ip: [PII_TAG] }, [
        link('customer_ref', 'customers', 'from'),
      ]),
      table('newsletter', { subject_id: ['subject-id'], greeting: [PII_TAG] }),
    ],
  };
}
