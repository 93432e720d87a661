import { PII_TAG, type ConnectorInput, type Identifiers, type RequestStrategy } from '@lethe/api';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toJsonSafe } from '../src/requests/sql-connectors/record-values.js';
import {
  runSqlConnector,
  SqlConnectorError,
  type SqlRightsOutcome,
  type SqlRightsRun,
} from '../src/requests/sql-connectors/sql-connector.js';
import type { FoundRecord } from '../src/requests/found-record.js';
import {
  ALL_SQL_DATABASE_KINDS,
  availableSqlDatabaseKinds,
  type TestSqlDatabase,
} from './support/sql-databases.js';

const available = await availableSqlDatabaseKinds();

const config = (type: ConnectorInput['type']): ConnectorInput => ({
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

const identifiers: Identifiers = {
  email: 'alice@example.com',
  phone: '+14155550101',
  address: { address: '1 Main St', city: 'Springfield', state: 'IL', postal: '62701', country: 'US' },
  customKey: 'CK-1',
  customKey2: 'AbC-9',
};
const ADDRESS = '1 Main St, Springfield, IL, 62701, US';

async function createScenario(database: TestSqlDatabase): Promise<void> {
  const { text, blob } = database.types;
  await database.exec(
    `create table customers (id integer primary key, name ${text}, email ${text}, phone ${text}, street ${text},
       street2 ${text}, city ${text}, state ${text}, zip ${text}, country ${text}, crm_id ${text}, ext_ref ${text},
       notes ${text})`,
    `create table loyalty (card_no ${text} primary key, crm_id ${text}, pos_id ${text}, member_name ${text},
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

type Expected = Pick<
  FoundRecord,
  'datasource' | 'pk' | 'matchCategory' | 'semantic' | 'semanticValue' | 'kept'
>;
const record = (
  table: string,
  pk: string,
  matchCategory: FoundRecord['matchCategory'],
  semantic: string,
  semanticValue: string,
): Expected => ({ datasource: `crm.${table}`, pk, matchCategory, semantic, semanticValue });
const shared = (expected: Expected): Expected => ({ ...expected, kept: 'shared' });

/**
 * Every request type and both strategies reach the same rows: the direct matches, what shares a
 * source key with them, and the links walked under the safe rule. Down from the matched customers
 * 1, 2 and 7 to their orders and on to order 10's shipment (own rows). Up from the gift order 12
 * (a direct match) to the customer who placed it, Frank (6): a shared row, read but never changed,
 * and never walked down from, so Frank's order 13 and its shipment are not reached. The connected
 * strategy adds the identifiers found in own rows (Bob's e-mail, Alice's other phone), which here
 * find no further rows.
 */
const REACHED: Expected[] = [
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
const ERASED = REACHED.filter((found) => found.kept === undefined);
const PII_COLUMNS: Record<string, string[]> = {
  customers: ['name', 'email', 'phone', 'street', 'street2'],
  loyalty: ['member_name', 'card_image'],
  orders: ['shipping_email'],
  accounts: ['holder'],
  receipts: [],
  shipments: [],
};
const byKey = (a: Expected, b: Expected) =>
  `${a.datasource} ${a.pk}`.localeCompare(`${b.datasource} ${b.pk}`, 'en', { numeric: true });

describe.each(ALL_SQL_DATABASE_KINDS)('SQL connector on $type', (kind) => {
  const missing = !available.includes(kind);
  let database: TestSqlDatabase;

  beforeEach(async (context) => {
    if (missing) return context.skip(`${kind.type} is not reachable here (see the warning above)`);
    database = await kind.create();
  });
  afterEach(async () => {
    if (!missing) await database?.dispose();
  });

  async function execute(
    run: SqlRightsRun,
    options?: { batchSize?: number },
    connectorConfig = config(kind.type),
  ): Promise<{ outcome: SqlRightsOutcome; records: FoundRecord[]; batches: number[] }> {
    const records: FoundRecord[] = [];
    const batches: number[] = [];
    const outcome = await runSqlConnector(
      'crm',
      connectorConfig,
      database.url,
      run,
      async (batch) => {
        batches.push(batch.length);
        records.push(...batch);
      },
      options,
    );
    return { outcome, records, batches };
  }

  /** All rows of a table, JSON-safe (SQLite's bigints as numbers), in primary key order. */
  async function rows(table: string, orderBy = 'id'): Promise<Record<string, unknown>[]> {
    const result = await sql<
      Record<string, unknown>
    >`select * from ${sql.table(table)} order by ${sql.ref(orderBy)}`.execute(database.db);
    return result.rows.map((row) => toJsonSafe(row) as Record<string, unknown>);
  }
  const ids = async (table: string, orderBy = 'id') =>
    (await rows(table, orderBy)).map((row) => row[orderBy]);

  const summary = (records: readonly FoundRecord[]) =>
    records
      .map(({ datasource, pk, matchCategory, semantic, semanticValue, kept }) => ({
        datasource,
        pk,
        matchCategory,
        semantic,
        semanticValue,
        ...(kept === undefined ? {} : { kept }),
      }))
      .sort(byKey);

  describe.each<[RequestStrategy, Expected[]]>([
    ['exact', REACHED],
    ['connected', REACHED],
  ])('strategy %s', (strategy, expected) => {
    it('dsar reports each matched row once, with its values, and changes nothing', async () => {
      await createScenario(database);
      const before = await rows('customers');
      const { outcome, records } = await execute({ type: 'dsar', strategy, identifiers });

      expect(summary(records)).toEqual([...expected].sort(byKey));
      expect(outcome).toEqual({ rowsFound: expected.length, rowsDeleted: 0, rowsNulled: 0 });
      for (const found of records) {
        expect(found.piiColumns).toEqual(PII_COLUMNS[found.datasource.slice('crm.'.length)]);
      }
      const alice = records.find((found) => found.datasource === 'crm.customers' && found.pk === '1');
      expect(alice?.values).toEqual({
        id: 1,
        name: 'Alice',
        email: 'Alice@Example.COM',
        phone: '+14155550000',
        street: null,
        street2: null,
        city: null,
        state: null,
        zip: null,
        country: null,
        crm_id: 'crm-1',
        ext_ref: null,
        notes: 'note 1',
      });
      const card = records.find((found) => found.pk === 'L-1');
      expect(card?.values).toEqual({
        card_no: 'L-1',
        crm_id: 'crm-1',
        pos_id: 'P-1',
        member_name: 'Alice A',
        points: 10,
        card_image: 'AQID',
      });
      expect(records.find((found) => found.datasource === 'crm.accounts')?.values).toEqual({
        tenant: 't1',
        account_no: 1,
        account_key: 'AbC-9',
        holder: 'Alice',
      });
      expect(await rows('customers')).toEqual(before);
    });

    it('delete removes exactly the own rows, children before parents, and keeps the shared ones', async () => {
      await createScenario(database);
      const frank = (await rows('customers')).find((row) => row['id'] === 6);
      const { outcome, records } = await execute({ type: 'delete', strategy, identifiers });

      expect(summary(records)).toEqual([...expected].sort(byKey));
      expect(records.every((found) => found.values === undefined)).toBe(true);
      expect(outcome).toEqual({
        rowsFound: expected.length,
        rowsDeleted: ERASED.length,
        rowsNulled: 0,
      });
      expect(await ids('customers')).toEqual([4, 5, 6, 8, 9]);
      expect((await rows('customers')).find((row) => row['id'] === 6)).toEqual(frank);
      expect(await ids('orders')).toEqual([13, 14, 16]);
      expect(await ids('shipments')).toEqual([101, 102]);
      expect(await ids('loyalty', 'card_no')).toEqual(['L-9']);
      expect(await ids('receipts')).toEqual([1002]);
      expect((await rows('accounts', 'holder')).map((row) => row['holder'])).toEqual(['Other', 'Someone']);
    });

    it('delete_pii sets only the pii columns of matched rows to NULL', async () => {
      await createScenario(database);
      const { outcome, records } = await execute({ type: 'delete_pii', strategy, identifiers });

      expect(summary(records)).toEqual([...expected].sort(byKey));
      // Receipts and shipments have no pii column, Frank's row is shared: reported, not changed.
      const nulled = ERASED.filter((found) => !/receipts|shipments/.test(found.datasource)).length;
      expect(outcome).toEqual({ rowsFound: expected.length, rowsDeleted: 0, rowsNulled: nulled });

      const customers = await rows('customers');
      const carol = customers.find((row) => row['id'] === 3);
      expect(carol).toEqual({
        id: 3,
        name: null,
        email: null,
        phone: null,
        street: null,
        street2: null,
        city: 'SPRINGFIELD',
        state: 'il',
        zip: '62701',
        country: 'us',
        crm_id: 'crm-3',
        ext_ref: null,
        notes: 'note 3',
      });
      const clearedCustomers = ERASED.filter((found) => found.datasource === 'crm.customers').map((found) =>
        Number(found.pk),
      );
      for (const row of customers) {
        expect(row['name'] === null, `customer ${String(row['id'])}`).toBe(
          clearedCustomers.includes(Number(row['id'])),
        );
        expect(row['notes']).toBe(`note ${String(row['id'])}`);
      }
      expect(customers.find((row) => row['id'] === 4)?.['street']).toBe('1 Main St');
      expect(await rows('loyalty', 'card_no')).toEqual([
        { card_no: 'L-1', crm_id: 'crm-1', pos_id: 'P-1', member_name: null, points: 10, card_image: null },
        { card_no: 'L-2', crm_id: 'crm-2', pos_id: null, member_name: null, points: 20, card_image: null },
        {
          card_no: 'L-9',
          crm_id: 'crm-9',
          pos_id: 'P-9',
          member_name: 'Ivan I',
          points: 90,
          card_image: null,
        },
      ]);
      expect((await rows('orders')).find((row) => row['id'] === 12)).toEqual({
        id: 12,
        customer_id: 6,
        shipping_email: null,
        amount: 120,
      });
      expect((await rows('accounts', 'holder')).map((row) => row['holder']).sort()).toEqual(
        [null, 'Other', 'Someone'].sort(),
      );
      expect(await ids('receipts')).toEqual([1000, 1002]);
      expect(await ids('shipments')).toEqual([100, 101, 102]);
    });
  });

  it('a failing statement rolls the whole database back', async () => {
    await createScenario(database);
    // A table the config does not know, whose foreign key the engine cannot follow: customers
    // are deleted last, so the foreign key stops the delete after every other table's rows went.
    await database.exec(
      `create table tickets (id integer primary key, customer_id integer not null,
         foreign key (customer_id) references customers (id))`,
      `insert into tickets (id, customer_id) values (500, 1), (501, 4)`,
    );
    const snapshot = () =>
      Promise.all(
        ['customers', 'orders', 'shipments', 'receipts', 'tickets']
          .map((table) => rows(table))
          .concat(rows('loyalty', 'card_no'), rows('accounts', 'holder')),
      );
    const before = await snapshot();
    const failure = await execute({ type: 'delete', strategy: 'exact', identifiers }).catch(
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(SqlConnectorError);
    expect((failure as SqlConnectorError).retryable).toBe(false);
    expect((failure as SqlConnectorError).message).toMatch(
      /deleting from customers was refused by a foreign key/,
    );
    expect(await snapshot()).toEqual(before);
  });

  it('dsar, delete_pii and delete of the same request reach the same rows', async () => {
    const { text } = database.types;
    const shop: ConnectorInput = {
      type: kind.type,
      urlEnv: 'SHOP_URL',
      tables: [
        { name: 'clients', primaryKey: ['id'], columns: { email: ['email', PII_TAG], name: [PII_TAG] } },
        {
          name: 'purchases',
          primaryKey: ['id'],
          columns: { gift_note: [PII_TAG] },
          links: [{ column: 'client_id', references: 'clients.id' }],
        },
      ],
    };
    const createShop = async () => {
      await database.exec(
        'drop table if exists purchases',
        'drop table if exists clients',
        `create table clients (id integer primary key, email ${text}, name ${text})`,
        `create table purchases (id integer primary key, client_id integer not null, gift_note ${text},
           foreign key (client_id) references clients (id))`,
        `insert into clients (id, email, name) values (1, 'ada@example.com', 'Ada'), (2, 'bob@example.com', 'Bob')`,
        `insert into purchases (id, client_id, gift_note) values (20, 1, 'for Ada'), (21, 1, 'hi'), (22, 2, 'for Bob')`,
      );
    };
    const run = (type: SqlRightsRun['type']) =>
      execute({ type, strategy: 'exact', identifiers: { email: 'ada@example.com' } }, undefined, shop);
    const reached = [
      record('clients', '1', 'direct', 'email', 'ada@example.com'),
      record('purchases', '20', 'connected', 'link:purchases.client_id', '1'),
      record('purchases', '21', 'connected', 'link:purchases.client_id', '1'),
    ].sort(byKey);

    await createShop();
    const read = await run('dsar');
    expect(summary(read.records)).toEqual(reached);
    expect(read.outcome).toEqual({ rowsFound: 3, rowsDeleted: 0, rowsNulled: 0 });

    const cleared = await run('delete_pii');
    expect(summary(cleared.records)).toEqual(reached);
    expect(cleared.outcome).toEqual({ rowsFound: 3, rowsDeleted: 0, rowsNulled: 3 });
    expect(await rows('clients')).toEqual([
      { id: 1, email: null, name: null },
      { id: 2, email: 'bob@example.com', name: 'Bob' },
    ]);
    expect(await rows('purchases')).toEqual([
      { id: 20, client_id: 1, gift_note: null },
      { id: 21, client_id: 1, gift_note: null },
      { id: 22, client_id: 2, gift_note: 'for Bob' },
    ]);

    await createShop();
    const deleted = await run('delete');
    expect(summary(deleted.records)).toEqual(reached);
    expect(deleted.outcome).toEqual({ rowsFound: 3, rowsDeleted: 3, rowsNulled: 0 });
    expect(await ids('clients')).toEqual([2]);
    expect(await ids('purchases')).toEqual([22]);
  });

  it('an error thrown by onRecords rolls back and reaches the caller as is', async () => {
    await createScenario(database);
    const refusal = new Error('report store is down');
    const failure = await runSqlConnector(
      'crm',
      config(kind.type),
      database.url,
      { type: 'delete', strategy: 'connected', identifiers },
      async () => {
        throw refusal;
      },
    ).catch((error: unknown) => error);
    expect(failure).toBe(refusal);
    expect(await ids('customers')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('streams 5,000 matches out of 20,000 rows in batches of at most batchSize', async () => {
    const { text } = database.types;
    await database.exec(
      `create table people (id integer primary key, email ${text}, name ${text})`,
      `create table purchases (id integer primary key, person_id integer, amount integer)`,
    );
    const people = Array.from({ length: 15_000 }, (_, index) => {
      const id = index + 1;
      return { id, email: id % 6 === 0 ? 'bulk@example.com' : `p${id}@example.com`, name: `person ${id}` };
    });
    // Purchases 1..2,500 belong to matched people, the other 2,500 to people who are not.
    const purchases = Array.from({ length: 5_000 }, (_, index) => ({
      id: index + 1,
      person_id: index < 2_500 ? 6 * (index + 1) : 6 * (index - 2_500) + 1,
      amount: index,
    }));
    for (let start = 0; start < people.length; start += 1_000) {
      await database.db
        .insertInto('people')
        .values(people.slice(start, start + 1_000))
        .execute();
    }
    for (let start = 0; start < purchases.length; start += 1_000) {
      await database.db
        .insertInto('purchases')
        .values(purchases.slice(start, start + 1_000))
        .execute();
    }
    const bulk: ConnectorInput = {
      type: kind.type,
      urlEnv: 'BULK_URL',
      tables: [
        { name: 'people', primaryKey: ['id'], columns: { email: ['email'], name: [PII_TAG] } },
        {
          name: 'purchases',
          primaryKey: ['id'],
          columns: {},
          links: [{ column: 'person_id', references: 'people.id' }],
        },
      ],
    };
    const run: SqlRightsRun = {
      type: 'dsar',
      strategy: 'connected',
      identifiers: { email: 'bulk@example.com' },
    };

    const read = await execute(run, { batchSize: 300 }, bulk);
    expect(read.outcome.rowsFound).toBe(5_000);
    expect(read.records).toHaveLength(5_000);
    expect(new Set(read.records.map((found) => `${found.datasource} ${found.pk}`)).size).toBe(5_000);
    expect(Math.max(...read.batches)).toBeLessThanOrEqual(300);
    expect(read.batches.length).toBeGreaterThanOrEqual(Math.ceil(5_000 / 300));
    expect(read.records.filter((found) => found.matchCategory === 'connected')).toHaveLength(2_500);

    const deleted = await execute({ ...run, type: 'delete' }, { batchSize: 300 }, bulk);
    expect(deleted.outcome).toEqual({ rowsFound: 5_000, rowsDeleted: 5_000, rowsNulled: 0 });
    const count = async (table: string) =>
      Number(
        (await sql<{ n: unknown }>`select count(*) as n from ${sql.table(table)}`.execute(database.db))
          .rows[0]?.n,
      );
    expect(await count('people')).toBe(12_500);
    expect(await count('purchases')).toBe(2_500);
  });

  it('rejects an invalid config before connecting, and names missing tables as not retryable', async () => {
    const invalid = config(kind.type);
    const failure = await execute({ type: 'dsar', strategy: 'exact', identifiers }, undefined, {
      ...invalid,
      tables: [...invalid.tables, { name: 'extra', primaryKey: ['id'], columns: { email: ['e-mail'] } }],
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SqlConnectorError);
    expect((failure as SqlConnectorError).message).toContain(
      "tables[6].columns.email[0]: unknown tag 'e-mail'",
    );

    const missingTable = await execute({ type: 'dsar', strategy: 'exact', identifiers }).catch(
      (error: unknown) => error,
    );
    expect(missingTable).toBeInstanceOf(SqlConnectorError);
    expect((missingTable as SqlConnectorError).retryable).toBe(false);
  });
});

describe('SQL connector connection failures', () => {
  const run: SqlRightsRun = { type: 'dsar', strategy: 'exact', identifiers: { email: 'a@example.com' } };
  const tables: ConnectorInput['tables'] = [{ name: 't', primaryKey: ['id'], columns: { email: ['email'] } }];

  it.each([
    ['postgres', 'postgres://lethe:s3cr3t-pw@127.0.0.1:1/nowhere'],
    ['mysql', 'mysql://lethe:s3cr3t-pw@127.0.0.1:1/nowhere'],
  ] as const)('%s: refused connection is retryable and the message hides the password', async (type, url) => {
    const failure = await runSqlConnector(
      'crm',
      { type, urlEnv: 'X', tables },
      url,
      run,
      async () => {},
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SqlConnectorError);
    expect((failure as SqlConnectorError).retryable).toBe(true);
    expect((failure as SqlConnectorError).message).not.toContain('s3cr3t-pw');
    expect((failure as SqlConnectorError).message).toContain('***');
  });

  it('sqlite: a missing file is not retryable; a URL of another database is refused', async () => {
    const missing = await runSqlConnector(
      'crm',
      { type: 'sqlite', urlEnv: 'X', tables },
      'sqlite:/nonexistent/dir/lethe.db',
      run,
      async () => {},
    ).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(SqlConnectorError);
    expect((missing as SqlConnectorError).retryable).toBe(false);

    const wrongScheme = await runSqlConnector(
      'crm',
      { type: 'sqlite', urlEnv: 'X', tables },
      'postgres://u:pw@localhost/db',
      run,
      async () => {},
    ).catch((error: unknown) => error);
    expect((wrongScheme as SqlConnectorError).retryable).toBe(false);
    expect((wrongScheme as SqlConnectorError).message).toMatch(/must start with sqlite:/);
  });
});
