import { PII_TAG, type ConnectorInput, type RequestStrategy } from '@lethe/api';
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
  byKey,
  config,
  createScenario,
  ERASED,
  identifiers,
  PII_COLUMNS,
  REACHED,
  record,
  type Expected,
} from './support/sql-connector-scenario.js';
import {
  ALL_SQL_DATABASE_KINDS,
  availableSqlDatabaseKinds,
  type TestSqlDatabase,
} from './support/sql-databases.js';

/**
 * Rights runs of the SQL connector on each kind of database: the strategies, the order of deletion,
 * rollback and batches.
 */

const available = await availableSqlDatabaseKinds();

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
