import { PII_TAG, type ConnectorInput, type Identifiers, type RequestType } from '@lethe/api';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FoundRecord } from '../src/requests/found-record.js';
import { toJsonSafe } from '../src/requests/sql-connectors/record-values.js';
import { runSqlConnector, SqlConnectorError } from '../src/requests/sql-connectors/sql-connector.js';
import {
  ALL_SQL_DATABASE_KINDS,
  availableSqlDatabaseKinds,
  type TestSqlDatabase,
} from './support/sql-databases.js';

/**
 * Links and identifiers across column types (docs/rights-requests.md, "Links across column
 * types"), the same on PostgreSQL, MariaDB and SQLite: a value is compared in the type of the
 * column it is searched in, one that is no value of that type reaches nothing and fails nothing;
 * and a table or column the config names but the database lacks stops the run before any row is
 * read, named.
 */
const available = await availableSqlDatabaseKinds();

const ADA_UUID = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
const BOB_UUID = 'b1ffcd00-1d2c-4ef8-bb6d-6bb9bd380a22';
const TABLES = ['accounts', 'sessions', 'ledger'] as const;
type Row = Record<string, unknown>;

const DATA: Record<(typeof TABLES)[number], Row[]> = {
  accounts: [
    { id: 1, public_id: ADA_UUID, number: 7, email: 'ada@example.com', name: 'Ada' },
    { id: 2, public_id: BOB_UUID, number: 8, email: 'bob@example.com', name: 'Bob' },
  ],
  sessions: [
    // Ada's by e-mail; walking up, an upper-case uuid is Ada's account, 'n/a' no uuid at all.
    { id: 1, account_public_id: ADA_UUID.toUpperCase(), email: 'ada@example.com', note: 's1' },
    { id: 2, account_public_id: 'n/a', email: 'ada@example.com', note: 's2' },
    { id: 3, account_public_id: BOB_UUID, email: null, note: 's3' },
    // Reached down from Ada's account: its text is the uuid's.
    { id: 4, account_public_id: ADA_UUID, email: null, note: 's4' },
    // A text that is Ada's uuid only once parsed: not the text of her uuid, nobody's.
    { id: 5, account_public_id: `{${ADA_UUID}}`, email: null, note: 's5' },
  ],
  ledger: [
    { id: 1, account_number: '7', email: null, note: 'l1' },
    { id: 2, account_number: '07', email: null, note: 'l2' },
    // Ada's by e-mail; walking up, neither is a smallint: out of range, not a number.
    { id: 3, account_number: '70000', email: 'ada@example.com', note: 'l3' },
    { id: 4, account_number: '8', email: null, note: 'l4' },
    { id: 5, account_number: 'seven', email: 'ada@example.com', note: 'l5' },
    { id: 6, account_number: '7.0', email: null, note: 'l6' },
  ],
};

function ddl(database: TestSqlDatabase): string[] {
  const { text } = database.types;
  const uuid = database.type === 'sqlite' ? 'text' : 'uuid';
  return [
    'drop table if exists ledger',
    'drop table if exists sessions',
    'drop table if exists accounts',
    `create table accounts (id integer primary key, public_id ${uuid} unique, number smallint unique, email ${text},
       name ${text})`,
    `create table sessions (id integer primary key, account_public_id ${text}, email ${text}, note ${text})`,
    `create table ledger (id integer primary key, account_number ${text}, email ${text}, note ${text})`,
  ];
}

const config = (type: ConnectorInput['type']): ConnectorInput => ({
  type,
  urlEnv: 'ACCOUNTS_URL',
  tables: [
    {
      name: 'accounts',
      primaryKey: ['id'],
      columns: { email: ['email', PII_TAG], name: [PII_TAG], number: ['custom-key'] },
    },
    {
      name: 'sessions',
      primaryKey: ['id'],
      columns: { email: ['email'], note: [PII_TAG] },
      // No direction: down from an account, up from a session (to a shared account).
      links: [{ column: 'account_public_id', references: 'accounts.public_id' }],
    },
    {
      name: 'ledger',
      primaryKey: ['id'],
      columns: { email: ['email'], note: [PII_TAG] },
      links: [{ column: 'account_number', references: 'accounts.number' }],
    },
  ],
});

describe.each(ALL_SQL_DATABASE_KINDS)('column types on $type', (kind) => {
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
    await database.exec(...ddl(database));
    for (const table of TABLES) await database.db.insertInto(table).values(DATA[table]).execute();
  });

  const dump = async () => {
    const tables: Record<string, Row[]> = {};
    for (const table of TABLES) {
      const { rows } = await sql<Row>`select * from ${sql.table(table)} order by id`.execute(database.db);
      tables[table] = rows.map((row) => toJsonSafe(row) as Row);
    }
    return tables;
  };
  const execute = async (type: RequestType, identifiers: Identifiers, input = config(kind.type)) => {
    const records: FoundRecord[] = [];
    const outcome = await runSqlConnector(
      'accounts',
      input,
      database.url,
      { type, strategy: 'exact', identifiers },
      async (batch) => {
        records.push(...batch);
      },
    );
    const reached = records.map((found) => `${found.datasource.split('.')[1]} ${found.pk}`).sort();
    return { outcome, reached };
  };

  it.for(['dsar', 'delete'] as const)(
    "%s: each value compared in the target column's type; odd ones reach nothing and fail nothing",
    async (type, context) => {
      if (missing) return context.skip(`${kind.type} is not reachable here`);
      const before = await dump();
      const { outcome, reached } = await execute(type, { email: 'ada@example.com' });
      // Account 1 by e-mail; down from it: sessions whose text is her uuid's (4, not 5), ledger
      // rows whose text is 7 in canonical form (1, not '07' or '7.0'); sessions 1, 2 and ledger
      // 3, 5 by e-mail, their references leading nowhere else.
      const ada = [
        'accounts 1',
        'ledger 1',
        'ledger 3',
        'ledger 5',
        'sessions 1',
        'sessions 2',
        'sessions 4',
      ];
      expect(reached).toEqual(ada);
      const after = await dump();
      if (type === 'dsar') {
        expect(after).toEqual(before);
        return;
      }
      expect(outcome.rowsDeleted).toBe(ada.length);
      const kept = (table: (typeof TABLES)[number], ids: number[]) =>
        before[table]?.filter((row) => !ids.includes(row['id'] as number));
      expect(after).toEqual({
        accounts: kept('accounts', [1]),
        sessions: kept('sessions', [1, 2, 4]),
        ledger: kept('ledger', [1, 3, 5]),
      });
    },
  );

  it('an identifier in an integer column: its canonical digits match, any other text reaches nothing', async (context) => {
    if (missing) return context.skip(`${kind.type} is not reachable here`);
    const bob = await execute('dsar', { customKey: '8' });
    expect(bob.reached).toEqual(['accounts 2', 'ledger 4', 'sessions 3']);
    // Not digits, not canonical, out of a smallint's range: found nowhere, and no statement fails.
    for (const customKey of ['B-8', '08', ' 8', '99999']) {
      expect((await execute('dsar', { customKey })).reached, customKey).toEqual([]);
    }
  });

  it('a table or column the database lacks stops the run at its start, named, and changes nothing', async (context) => {
    if (missing) return context.skip(`${kind.type} is not reachable here`);
    const before = await dump();
    const base = config(kind.type);
    const [accounts, ...rest] = base.tables;
    const broken: ConnectorInput = {
      ...base,
      tables: [
        { ...accounts!, columns: { ...accounts!.columns, nickname: [PII_TAG] } },
        ...rest,
        { name: 'ghosts', primaryKey: ['id'], columns: { email: ['email'] } },
        {
          name: 'visits',
          primaryKey: ['visit_id'],
          columns: {},
          links: [{ column: 'account_id', references: 'accounts.uuid' }],
        },
      ],
    };
    const failure = await execute('delete', { email: 'ada@example.com' }, broken).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SqlConnectorError);
    const { message, retryable } = failure as SqlConnectorError;
    expect(retryable).toBe(false);
    expect(message).toContain("column 'nickname' of table 'accounts' (tables[0].columns.nickname)");
    expect(message).toContain("table 'ghosts' (tables[3])");
    expect(message).toContain("table 'visits' (tables[4])");
    expect(message).toContain("column 'uuid' of table 'accounts' (tables[4].links[0].references)");
    expect(await dump()).toEqual(before);
  });
});
