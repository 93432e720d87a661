import { PII_TAG, type ConnectorInput, type RequestType } from '@lethe/api';
import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FoundRecord } from '../src/requests/found-record.js';
import { toJsonSafe } from '../src/requests/sql-connectors/record-values.js';
import { runSqlConnector, SqlConnectorError } from '../src/requests/sql-connectors/sql-connector.js';
import { connectorHmacKey } from '../src/requests/sql-connectors/table-erasure.js';
import {
  ALL_SQL_DATABASE_KINDS,
  availableSqlDatabaseKinds,
  type TestSqlDatabase,
} from './support/sql-databases.js';

/**
 * Erasure per table and per column (docs/rights-requests.md), the same on PostgreSQL, MariaDB and
 * SQLite: masks (a NOT NULL column rewritten, not nulled; hmac, fixed, random), `erase: fields`
 * and `erase: never`, a delete_pii limited to data categories, masks that cannot fit their column
 * stopping the run before anything changes; every other person's rows byte for byte unchanged.
 */
const available = await availableSqlDatabaseKinds();

const MASK_KEY = Buffer.alloc(32, 7);
const TABLES = ['customers', 'invoices', 'audit_log', 'tickets'] as const;
type Row = Record<string, unknown>;
type Dump = Record<string, Row[]>;

const DATA: Record<(typeof TABLES)[number], Row[]> = {
  customers: [
    {
      id: 1,
      email: 'ada@example.com',
      phone: '+4915100000001',
      name: 'Ada',
      note: 'vip',
      city: 'Berlin',
      born: '1815-12-10',
    },
    {
      id: 2,
      email: 'bob@example.com',
      phone: '+4915100000002',
      name: 'Bob',
      note: 'new',
      city: 'Bonn',
      born: '1990-01-01',
    },
    { id: 3, email: 'cy@example.com', phone: null, name: 'Cy', note: null, city: 'Köln', born: '1980-05-05' },
  ],
  // Linked to customers by a declared link only: kept rows block nothing.
  invoices: [
    { id: 10, customer_ref: 1, email: 'ada@example.com', holder: 'Ada L.', amount: 100 },
    { id: 11, customer_ref: 1, email: 'ada@example.com', holder: 'Ada L.', amount: 250 },
    { id: 12, customer_ref: 2, email: 'bob@example.com', holder: 'Bob B.', amount: 40 },
  ],
  audit_log: [
    { id: 20, customer_ref: 1, email: 'ada@example.com' },
    { id: 21, customer_ref: 2, email: 'bob@example.com' },
  ],
  // A foreign key: Cy's ticket, kept by erase: never, blocks the delete of Cy's row.
  tickets: [{ id: 30, customer_id: 3, subject: 'help' }],
};

function ddl(): string[] {
  return [
    'drop table if exists tickets',
    'drop table if exists audit_log',
    'drop table if exists invoices',
    'drop table if exists customers',
    `create table customers (id integer primary key, email varchar(100), phone varchar(20),
       name varchar(4) not null, note varchar(200), city varchar(40) not null, born date not null)`,
    `create table invoices (id integer primary key, customer_ref integer, email varchar(100),
       holder varchar(30) not null, amount integer not null)`,
    'create table audit_log (id integer primary key, customer_ref integer, email varchar(100))',
    `create table tickets (id integer primary key, customer_id integer not null references customers(id),
       subject varchar(40))`,
  ];
}

const config = (type: ConnectorInput['type']): ConnectorInput => ({
  type,
  urlEnv: 'SHOP_URL',
  tables: [
    {
      name: 'customers',
      primaryKey: ['id'],
      columns: {
        email: { tags: ['email'], categories: ['user.contact.email'], mask: { strategy: 'hmac' } },
        phone: { categories: ['user.contact.phone_number'], mask: { strategy: 'random' } },
        // NOT NULL varchar(4), no mask: rewritten to 'erased' cut to 4, not nulled.
        name: { categories: ['user.name'] },
        note: [PII_TAG],
        city: { categories: ['user.contact.address'], mask: { strategy: 'fixed', value: 'redacted' } },
        born: {
          categories: ['user.demographic.date_of_birth'],
          mask: { strategy: 'fixed', value: '1900-01-01' },
        },
      },
    },
    {
      name: 'invoices',
      primaryKey: ['id'],
      erase: 'fields',
      columns: {
        email: { categories: ['user.contact.email'], mask: { strategy: 'hmac' } },
        holder: { categories: ['user.name'] },
        amount: { categories: ['system.operations'] },
      },
      links: [{ column: 'customer_ref', references: 'customers.id' }],
    },
    {
      name: 'audit_log',
      primaryKey: ['id'],
      erase: 'never',
      columns: { email: { tags: ['email', PII_TAG] } },
      links: [{ column: 'customer_ref', references: 'customers.id' }],
    },
    {
      name: 'tickets',
      primaryKey: ['id'],
      erase: 'never',
      columns: { subject: [PII_TAG] },
      links: [{ column: 'customer_id', references: 'customers.id' }],
    },
  ],
});

const hmacOf = (value: string) =>
  createHmac('sha256', connectorHmacKey(MASK_KEY, 'shop')).update(value).digest('hex');

describe.each(ALL_SQL_DATABASE_KINDS)('masking on $type', (kind) => {
  const missing = !available.includes(kind);
  let database: TestSqlDatabase;

  beforeAll(async () => {
    if (missing) return;
    database = await kind.create();
  });
  afterAll(async () => {
    if (!missing) await database?.dispose();
  });
  beforeEach(async () => {
    if (missing) return;
    await database.exec(...ddl());
    for (const table of TABLES) await database.db.insertInto(table).values(DATA[table]).execute();
  });

  const dump = async (): Promise<Dump> => {
    const tables: Dump = {};
    for (const table of TABLES) {
      const { rows } = await sql<Row>`select * from ${sql.table(table)} order by id`.execute(database.db);
      tables[table] = rows.map((row) => toJsonSafe(row) as Row);
    }
    return tables;
  };
  /** Every row but Ada's (customer 1 and the rows pointing at it). */
  const others = (tables: Dump): Dump =>
    Object.fromEntries(
      Object.entries(tables).map(([table, rows]) => [
        table,
        rows.filter((row) => (table === 'customers' ? row['id'] !== 1 : row['customer_ref'] !== 1)),
      ]),
    );
  // SQLite declares no length: random text is then 32 characters, 'erased' is not cut.
  const phoneLength = kind.type === 'sqlite' ? 32 : 20;
  const row = (tables: Dump, table: string, id: number) => tables[table]?.find((r) => r['id'] === id);
  const execute = async (
    type: RequestType,
    email: string,
    extra: { categories?: string[]; input?: ConnectorInput } = {},
  ) => {
    const records: FoundRecord[] = [];
    const outcome = await runSqlConnector(
      'shop',
      extra.input ?? config(kind.type),
      database.url,
      { type, strategy: 'exact', identifiers: { email }, categories: extra.categories },
      async (batch) => {
        records.push(...batch);
      },
      { maskKey: MASK_KEY },
    );
    return { outcome, records };
  };

  it('delete_pii: every personal column masked as configured; a NOT NULL one rewritten; bystanders unchanged', async (context) => {
    if (missing) return context.skip(`${kind.type} is not reachable here`);
    const before = await dump();
    const { outcome, records } = await execute('delete_pii', 'ada@example.com');
    const after = await dump();
    expect(others(after)).toEqual(others(before));

    const ada = row(after, 'customers', 1) as Row;
    expect(ada['email']).toBe(hmacOf('ada@example.com'));
    expect(String(ada['phone'])).toMatch(new RegExp(`^[0-9a-f]{${phoneLength}}$`));
    expect(ada['name']).toBe(kind.type === 'sqlite' ? 'erased' : 'eras');
    expect(ada['note']).toBeNull();
    expect(ada['city']).toBe('redacted');
    expect(ada['born']).toBe('1900-01-01');
    // erase: fields tables are masked too; the same value gives the same hmac in every table.
    for (const id of [10, 11]) {
      expect(row(after, 'invoices', id)).toEqual({
        ...row(before, 'invoices', id),
        email: hmacOf('ada@example.com'),
        holder: 'erased',
      });
    }
    // erase: never: left as it was, and reported as kept.
    expect(row(after, 'audit_log', 20)).toEqual(row(before, 'audit_log', 20));
    expect(records.find((r) => r.datasource === 'shop.audit_log')).toMatchObject({ pk: '20', kept: 'never' });
    expect(
      records
        .filter((r) => r.kept === undefined)
        .map((r) => `${r.datasource} ${r.pk}`)
        .sort(),
    ).toEqual(['shop.customers 1', 'shop.invoices 10', 'shop.invoices 11']);
    expect(outcome.rowsNulled).toBe(3);
  });

  it('hmac is deterministic for equal values and random differs per row', async (context) => {
    if (missing) return context.skip(`${kind.type} is not reachable here`);
    await execute('delete_pii', 'ada@example.com');
    await execute('delete_pii', 'bob@example.com');
    const after = await dump();
    expect(row(after, 'customers', 2)?.['email']).toBe(hmacOf('bob@example.com'));
    expect(row(after, 'customers', 1)?.['email']).not.toBe(row(after, 'customers', 2)?.['email']);
    expect(row(after, 'customers', 1)?.['phone']).not.toBe(row(after, 'customers', 2)?.['phone']);
    expect(String(row(after, 'customers', 2)?.['phone'])).toHaveLength(phoneLength);
  });

  it("delete_pii with categories ['user.contact']: e-mail, phone and city cleared, the name and untyped pii kept", async (context) => {
    if (missing) return context.skip(`${kind.type} is not reachable here`);
    const before = await dump();
    await execute('delete_pii', 'ada@example.com', { categories: ['user.contact'] });
    const after = await dump();
    expect(others(after)).toEqual(others(before));
    expect(row(after, 'customers', 1)).toEqual({
      ...row(before, 'customers', 1),
      email: hmacOf('ada@example.com'),
      phone: expect.stringMatching(new RegExp(`^[0-9a-f]{${phoneLength}}$`)) as unknown,
      city: 'redacted',
    });
    expect(row(after, 'invoices', 10)).toEqual({
      ...row(before, 'invoices', 10),
      email: hmacOf('ada@example.com'),
    });
  });

  it('delete: row tables deleted, erase: fields rows kept and masked, erase: never rows kept and reported', async (context) => {
    if (missing) return context.skip(`${kind.type} is not reachable here`);
    const before = await dump();
    const { outcome, records } = await execute('delete', 'ada@example.com');
    const after = await dump();
    expect(others(after)).toEqual(others(before));
    expect(row(after, 'customers', 1)).toBeUndefined();
    expect(row(after, 'invoices', 10)).toEqual({
      ...row(before, 'invoices', 10),
      email: hmacOf('ada@example.com'),
      holder: 'erased',
    });
    expect(row(after, 'audit_log', 20)).toEqual(row(before, 'audit_log', 20));
    expect(records.filter((r) => r.kept === 'never').map((r) => r.datasource)).toEqual(['shop.audit_log']);
    expect(outcome).toMatchObject({ rowsDeleted: 1, rowsNulled: 2 });
  });

  it('delete: a row kept by erase: never that references the person fails the delete closed, named', async (context) => {
    if (missing) return context.skip(`${kind.type} is not reachable here`);
    const before = await dump();
    const failure = await execute('delete', 'cy@example.com').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SqlConnectorError);
    expect((failure as Error).message).toMatch(/deleting from customers was refused by a foreign key/);
    expect((failure as Error).message).toMatch(/erase: never/);
    expect(await dump()).toEqual(before);
  });

  it('masks that cannot fit their column stop the run at its start, each named, nothing changed', async (context) => {
    if (missing) return context.skip(`${kind.type} is not reachable here`);
    const input = config(kind.type);
    const customers = input.tables[0] as ConnectorInput['tables'][number];
    const invoices = input.tables[1] as ConnectorInput['tables'][number];
    const bad: ConnectorInput = {
      ...input,
      tables: [
        {
          ...customers,
          columns: {
            ...customers.columns,
            name: { categories: ['user.name'], mask: { strategy: 'null' } },
            born: { categories: ['user.demographic.date_of_birth'] },
            city: {
              categories: ['user.contact.address'],
              mask: { strategy: 'fixed', value: 'x'.repeat(41) },
            },
          },
        },
        {
          ...invoices,
          columns: { ...invoices.columns, amount: { tags: [PII_TAG], mask: { strategy: 'hmac' } } },
        },
        ...input.tables.slice(2),
      ],
    };
    const before = await dump();
    const failure = await execute('delete_pii', 'ada@example.com', { input: bad }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SqlConnectorError);
    const message = (failure as Error).message;
    expect(message).toMatch(/customers: column 'name' \(.*NOT NULL\) cannot be masked with null/);
    expect(message).toMatch(/customers: column 'born' .* give it a mask/);
    // SQLite declares no length, and holds the long value.
    if (kind.type !== 'sqlite')
      expect(message).toMatch(/customers: column 'city' .* longer than 40 characters/);
    expect(message).toMatch(/invoices: column 'amount' .* a hmac mask needs a text column/);
    expect(await dump()).toEqual(before);
  });

  it('an unknown data category is a config error naming its path', async (context) => {
    if (missing) return context.skip(`${kind.type} is not reachable here`);
    const input = config(kind.type);
    const customers = input.tables[0] as ConnectorInput['tables'][number];
    const bad = {
      ...input,
      tables: [{ ...customers, columns: { ...customers.columns, name: { categories: ['user.nam'] } } }],
    };
    const failure = await execute('dsar', 'ada@example.com', { input: bad }).catch((error: unknown) => error);
    expect((failure as Error).message).toContain(
      "tables[0].columns.name.categories[0]: unknown data category 'user.nam'",
    );
  });
});
