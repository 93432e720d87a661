import { PII_TAG, type ConnectorInput, type RequestStrategy, type RequestType } from '@lethe/api';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FoundRecord } from '../src/requests/found-record.js';
import { toJsonSafe } from '../src/requests/sql-connectors/record-values.js';
import { runSqlConnector } from '../src/requests/sql-connectors/sql-connector.js';
import {
  ALL_SQL_DATABASE_KINDS,
  availableSqlDatabaseKinds,
  type TestSqlDatabase,
} from './support/sql-databases.js';

/**
 * The worked example of docs/rights-requests.md: Alice and Bob share an address and a support
 * rep, order the same product, and each has a profile their customer row points at. A request
 * for Alice must reach her rows, show the shared ones, and leave every row of Bob's, Carol's,
 * the address, the rep and the catalogue byte for byte as it was.
 */
const available = await availableSqlDatabaseKinds();

const config = (type: ConnectorInput['type']): ConnectorInput => ({
  type,
  urlEnv: 'SHOP_URL',
  tables: [
    { name: 'addresses', primaryKey: ['id'], columns: { street: [PII_TAG] } },
    { name: 'employees', primaryKey: ['id'], columns: { name: [PII_TAG] } },
    { name: 'profiles', primaryKey: ['id'], owner: 'subject', columns: { bio: [PII_TAG] } },
    {
      name: 'customers',
      primaryKey: ['id'],
      columns: { email: ['email', PII_TAG], alt_email: ['email', PII_TAG], name: [PII_TAG] },
      links: [
        // Legacy links (no direction): walked down and up under the safe rule.
        { column: 'address_id', references: 'addresses.id' },
        { column: 'rep_id', references: 'employees.id' },
        { column: 'profile_id', references: 'profiles.id', direction: 'to' },
        // Declared on the customer's key, fideslang style: `to` walks down to the orders.
        { column: 'id', references: 'orders.customer_id', direction: 'to' },
      ],
    },
    { name: 'products', primaryKey: ['id'], owner: 'shared', columns: {} },
    { name: 'orders', primaryKey: ['id'], columns: {} },
    {
      name: 'order_items',
      primaryKey: ['id'],
      columns: {},
      links: [
        { column: 'order_id', references: 'orders.id', direction: 'from' },
        { column: 'product_id', references: 'products.id', direction: 'to' },
      ],
    },
    { name: 'tickets', primaryKey: ['id'], columns: { contact_email: ['email'], note: [PII_TAG] } },
  ],
});

const TABLES = [
  'addresses',
  'employees',
  'profiles',
  'customers',
  'products',
  'orders',
  'order_items',
  'tickets',
];

async function createShop(database: TestSqlDatabase): Promise<void> {
  const { text } = database.types;
  await database.exec(
    `create table addresses (id integer primary key, street ${text})`,
    `create table employees (id integer primary key, name ${text})`,
    `create table profiles (id integer primary key, bio ${text})`,
    `create table customers (id integer primary key, email ${text}, alt_email ${text}, name ${text},
       address_id integer references addresses (id), rep_id integer references employees (id),
       profile_id integer references profiles (id))`,
    `create table products (id integer primary key, title ${text})`,
    `create table orders (id integer primary key, customer_id integer not null references customers (id))`,
    `create table order_items (id integer primary key, order_id integer not null references orders (id),
       product_id integer not null references products (id))`,
    `create table tickets (id integer primary key, contact_email ${text}, note ${text})`,
    `insert into addresses values (1, '1 Shared St'), (2, '2 Other St')`,
    `insert into employees values (1, 'Eve'), (2, 'Mallory')`,
    `insert into profiles values (1, 'Alice bio'), (2, 'Bob bio')`,
    `insert into customers values (1, 'alice@example.com', 'alice.alt@example.com', 'Alice', 1, 1, 1),
       (2, 'bob@example.com', null, 'Bob', 1, 1, 2), (3, 'carol@example.com', null, 'Carol', 2, 2, null)`,
    `insert into products values (1, 'Lamp'), (2, 'Desk')`,
    `insert into orders values (10, 1), (11, 2)`,
    `insert into order_items values (100, 10, 1), (101, 11, 1), (102, 11, 2)`,
    `insert into tickets values (1000, 'alice.alt@example.com', 'about my lamp'), (1001, 'bob@example.com', 'desk')`,
  );
}

type Seen = Pick<FoundRecord, 'datasource' | 'pk' | 'matchCategory' | 'semantic' | 'semanticValue' | 'kept'>;
const seen = (
  table: string,
  pk: string,
  matchCategory: FoundRecord['matchCategory'],
  semantic: string,
  semanticValue: string,
  kept?: 'shared' | 'never',
): Seen => ({
  datasource: `shop.${table}`,
  pk,
  matchCategory,
  semantic,
  semanticValue,
  ...(kept === undefined ? {} : { kept }),
});
const byKey = (a: Seen, b: Seen) => `${a.datasource} ${a.pk}`.localeCompare(`${b.datasource} ${b.pk}`);

const EXACT: Seen[] = [
  seen('customers', '1', 'direct', 'email', 'alice@example.com'),
  seen('orders', '10', 'connected', 'link:customers.id', '1'),
  seen('order_items', '100', 'connected', 'link:order_items.order_id', '10'),
  // Up into an `owner: subject` table: Alice's own profile.
  seen('profiles', '1', 'connected', 'link:customers.profile_id', '1'),
  // Up into rows others point at too: read, kept.
  seen('addresses', '1', 'connected', 'link:customers.address_id', '1', 'shared'),
  seen('employees', '1', 'connected', 'link:customers.rep_id', '1', 'shared'),
  seen('products', '1', 'connected', 'link:order_items.product_id', '1', 'shared'),
].sort(byKey);
/** `connected` also searches Alice's second e-mail, found in her own customer row. */
const CONNECTED: Seen[] = [
  ...EXACT,
  seen('tickets', '1000', 'connected', 'email', 'alice.alt@example.com'),
].sort(byKey);
const OWN_PII: Record<string, string[]> = {
  customers: ['1'],
  profiles: ['1'],
  tickets: ['1000'],
};

describe.each(ALL_SQL_DATABASE_KINDS)('SQL connector reference graph on $type', (kind) => {
  const missing = !available.includes(kind);
  let database: TestSqlDatabase;

  beforeEach(async (context) => {
    if (missing) return context.skip(`${kind.type} is not reachable here`);
    database = await kind.create();
    await createShop(database);
  });
  afterEach(async () => {
    if (!missing) await database?.dispose();
  });

  async function execute(type: RequestType, strategy: RequestStrategy, email = 'alice@example.com') {
    const records: FoundRecord[] = [];
    const outcome = await runSqlConnector(
      'shop',
      config(kind.type),
      database.url,
      { type, strategy, identifiers: { email } },
      async (batch) => {
        records.push(...batch);
      },
    );
    const summary = records
      .map(({ datasource, pk, matchCategory, semantic, semanticValue, kept }) =>
        seen(datasource.slice('shop.'.length), pk, matchCategory, semantic, semanticValue, kept),
      )
      .sort(byKey);
    return { outcome, records, summary };
  }

  /** Every table, every row, JSON-safe, keyed `table pk`. */
  async function dump(): Promise<Map<string, unknown>> {
    const rows = new Map<string, unknown>();
    for (const table of TABLES) {
      const result = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(
        database.db,
      );
      for (const row of result.rows) rows.set(`${table} ${String(row['id'])}`, toJsonSafe(row));
    }
    return rows;
  }

  describe.each<[RequestStrategy, Seen[]]>([
    ['exact', EXACT],
    ['connected', CONNECTED],
  ])('strategy %s', (strategy, expected) => {
    const own = expected.filter((found) => found.kept === undefined);
    const ownKeys = new Set(own.map((found) => `${found.datasource.slice('shop.'.length)} ${found.pk}`));

    it('dsar shows the own rows and the shared ones they point at, not the neighbours', async () => {
      const { outcome, records, summary } = await execute('dsar', strategy);
      expect(summary).toEqual(expected);
      expect(outcome).toEqual({ rowsFound: expected.length, rowsDeleted: 0, rowsNulled: 0 });
      expect(records.find((found) => found.datasource === 'shop.addresses')?.values).toEqual({
        id: 1,
        street: '1 Shared St',
      });
    });

    it('delete removes the own rows only; every other row is unchanged', async () => {
      const before = await dump();
      const { outcome, summary } = await execute('delete', strategy);
      expect(summary).toEqual(expected);
      expect(outcome).toEqual({ rowsFound: expected.length, rowsDeleted: own.length, rowsNulled: 0 });
      const after = await dump();
      expect([...after.keys()].sort()).toEqual([...before.keys()].filter((key) => !ownKeys.has(key)).sort());
      for (const [key, row] of after) expect(row, key).toEqual(before.get(key));
    });

    it('delete_pii clears the own rows only; every other row is unchanged', async () => {
      const before = await dump();
      const { outcome, summary } = await execute('delete_pii', strategy);
      expect(summary).toEqual(expected);
      const withPii = own.filter((found) =>
        (OWN_PII[found.datasource.slice('shop.'.length)] ?? []).includes(found.pk),
      );
      expect(outcome).toEqual({ rowsFound: expected.length, rowsDeleted: 0, rowsNulled: withPii.length });
      const after = await dump();
      for (const [key, row] of after) {
        if (ownKeys.has(key)) continue;
        expect(row, key).toEqual(before.get(key));
      }
      expect(after.get('customers 1')).toEqual({
        id: 1,
        email: null,
        alt_email: null,
        name: null,
        address_id: 1,
        rep_id: 1,
        profile_id: 1,
      });
      expect(after.get('profiles 1')).toEqual({ id: 1, bio: null });
    });
  });

  it('searches every column that carries an identity', async () => {
    const { summary } = await execute('dsar', 'exact', 'alice.alt@example.com');
    expect(summary.filter((found) => found.matchCategory === 'direct')).toEqual([
      seen('customers', '1', 'direct', 'email', 'alice.alt@example.com'),
      seen('tickets', '1000', 'direct', 'email', 'alice.alt@example.com'),
    ]);
  });

  it("a request for Bob reaches the shared address but never Alice's rows", async () => {
    const { summary } = await execute('dsar', 'connected', 'bob@example.com');
    const keys = summary.map((found) => `${found.datasource} ${found.pk}${found.kept ? ' kept' : ''}`);
    expect(keys.sort()).toEqual(
      [
        'shop.addresses 1 kept',
        'shop.customers 2',
        'shop.employees 1 kept',
        'shop.order_items 101',
        'shop.order_items 102',
        'shop.orders 11',
        'shop.products 1 kept',
        'shop.products 2 kept',
        'shop.profiles 2',
        'shop.tickets 1001',
      ].sort(),
    );
  });
});
