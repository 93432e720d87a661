import { PII_TAG, type ConnectorInput, type ManifestResult } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSqlConnector, SqlConnectorError } from '../src/requests/sql-connectors/sql-connector.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import {
  ALL_SQL_DATABASE_KINDS,
  availableSqlDatabaseKinds,
  type TestSqlDatabase,
} from './support/sql-databases.js';

/**
 * Safety rails at save (docs/rights-requests.md, "Safety rails"): a connector config is checked
 * against its database's live catalog when the server holds its connection string; tables,
 * columns, unique and non-null primary keys and unique columns a link walks up to, read from each
 * database's own catalog. A config that could not be checked is saved with a note, and the run
 * refuses it at its start, before any row is read.
 */
const available = await availableSqlDatabaseKinds();

function schema(database: TestSqlDatabase): string[] {
  const { text } = database.types;
  return [
    `create table people (id integer primary key, email ${text}, code ${text})`,
    `create table loose (id integer, email ${text})`,
    `create table nullable_key (k ${text} unique, email ${text})`,
    `create table pairs (a integer not null, b integer not null, email ${text}, primary key (a, b))`,
    `create table visits (id integer not null unique, person_id integer, person_code ${text}, email ${text})`,
    `insert into people (id, email, code) values (1, 'ada@example.com', 'c'), (2, 'bob@example.com', 'c')`,
    `insert into loose (id, email) values (1, 'ada@example.com'), (1, 'bob@example.com')`,
  ];
}

const good = (type: ConnectorInput['type'], urlEnv: string): ConnectorInput => ({
  type,
  urlEnv,
  tables: [
    { name: 'people', primaryKey: ['id'], columns: { email: ['email', PII_TAG] } },
    { name: 'pairs', primaryKey: ['a', 'b'], columns: { email: ['email'] } },
    {
      name: 'visits',
      primaryKey: ['id'],
      columns: { email: ['email'] },
      links: [{ column: 'person_id', references: 'people.id' }],
    },
  ],
});

const bad = (type: ConnectorInput['type'], urlEnv: string): ConnectorInput => ({
  type,
  urlEnv,
  tables: [
    { name: 'people', primaryKey: ['id'], columns: { email: ['email', PII_TAG], phone: ['phone'] } },
    { name: 'loose', primaryKey: ['id'], columns: { email: ['email'] } },
    { name: 'nullable_key', primaryKey: ['k'], columns: { email: ['email'] } },
    { name: 'pairs', primaryKey: ['a'], columns: { email: ['email'] } },
    {
      name: 'visits',
      primaryKey: ['id'],
      columns: { email: ['email'] },
      links: [
        { column: 'person_id', references: 'people.id' },
        { column: 'person_code', references: 'people.code' },
      ],
    },
    { name: 'gone', primaryKey: ['id'], columns: { email: ['email'] } },
  ],
});

const BAD_PATHS = [
  'tables[0].columns.phone',
  'tables[5]',
  'tables[1].primaryKey',
  'tables[1].primaryKey[0]',
  'tables[2].primaryKey[0]',
  'tables[3].primaryKey',
  'tables[4].links[1].references',
];

describe.each(ALL_SQL_DATABASE_KINDS)('connector schema check on $type', (kind) => {
  const missing = !available.includes(kind);
  let database: TestSqlDatabase;
  let lethe: Lethe;
  let token: string;
  let disposeLocation: () => Promise<void>;

  beforeAll(async () => {
    if (missing) return;
    database = await kind.create();
    await database.exec(...schema(database));
    const location = await SQLITE_BACKEND.create({ migrated: true });
    disposeLocation = location.dispose;
    lethe = await createLethe({
      dataDir: location.dataDir,
      env: { SHOP_URL: database.url },
      rateLimit: false,
    });
    token = (await lethe.tokens.mint({ subject: 'admin', role: 'admin', ttlSeconds: 3600 })).token;
  });
  afterAll(async () => {
    if (missing) return;
    await lethe?.close();
    await disposeLocation?.();
    await database?.dispose();
  });

  const call = (method: 'PUT' | 'POST' | 'GET', url: string, payload?: object) =>
    lethe.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload });

  it.skipIf(missing)('a config its catalog fits is saved', async () => {
    const response = await call('PUT', '/v1/connectors/shop', good(kind.type, 'SHOP_URL'));
    expect(response.statusCode, response.body).toBe(201);
  });

  it.skipIf(missing)(
    'a column that is no SQL identifier is refused with 400, whatever its value',
    async () => {
      // Found by the fuzzer: a key outside the identifier pattern went unchecked and its null was a 500.
      const config = good(kind.type, 'SHOP_URL') as { tables: { columns: Record<string, unknown> }[] };
      config.tables[0]!.columns['1'] = null;
      const response = await call('PUT', '/v1/connectors/shop3', config);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json<{ error: { code: string } }>().error.code).toBe('VALIDATION_FAILED');
    },
  );

  it.skipIf(missing)(
    'a config its catalog does not fit is refused, every problem with its path',
    async () => {
      const response = await call('PUT', '/v1/connectors/shop2', bad(kind.type, 'SHOP_URL'));
      expect(response.statusCode, response.body).toBe(400);
      const { error } = response.json<{
        error: { code: string; details: { problems: { path: string }[] } };
      }>();
      expect(error.code).toBe('CONNECTOR_SCHEMA_MISMATCH');
      expect(error.details.problems.map((problem) => problem.path).sort()).toEqual([...BAD_PATHS].sort());
      expect((await call('GET', '/v1/connectors/shop2')).statusCode).toBe(404);
    },
  );

  it.skipIf(missing)('lethe apply refuses it too, named by its place in the manifest', async () => {
    const { urlEnv: _, ...rest } = bad(kind.type, 'SHOP_URL');
    const response = await call('POST', '/v1/manifest', {
      connectors: [{ name: 'shop3', urlEnv: 'SHOP_URL', ...rest }],
    });
    expect(response.statusCode, response.body).toBe(400);
    const { error } = response.json<{
      error: { code: string; message: string; details: { path: string } };
    }>();
    expect(error.code).toBe('CONNECTOR_SCHEMA_MISMATCH');
    expect(error.details.path).toBe('connectors[0]');
    expect(error.message).toContain('tables[1].primaryKey');
  });

  it.skipIf(missing)(
    'without the connection string the config is saved with a note, and its run is refused at the start',
    async () => {
      const { urlEnv: _, ...rest } = bad(kind.type, 'ELSEWHERE_URL');
      const response = await call('POST', '/v1/manifest', {
        connectors: [{ name: 'shop4', urlEnv: 'ELSEWHERE_URL', ...rest }],
      });
      expect(response.statusCode, response.body).toBe(200);
      const notes = response.json<ManifestResult>().changes.flatMap((change) => change.notes ?? []);
      expect(notes.join('\n')).toMatch(/not checked against the database: ELSEWHERE_URL is not set/);
      expect((await call('PUT', '/v1/connectors/shop5', bad(kind.type, 'ELSEWHERE_URL'))).statusCode).toBe(
        201,
      );

      // The run on a server that holds the string: refused before any row is read or changed.
      const { missing: _m, ...config } = { ...bad(kind.type, 'SHOP_URL'), missing: 0 };
      const keysOnly = { ...config, tables: config.tables.filter((table) => table.name !== 'gone') };
      keysOnly.tables[0] = { name: 'people', primaryKey: ['id'], columns: { email: ['email', PII_TAG] } };
      const failure = await runSqlConnector(
        'shop',
        keysOnly,
        database.url,
        { type: 'delete', strategy: 'exact', identifiers: { email: 'ada@example.com' } },
        async () => {},
      ).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SqlConnectorError);
      const message = (failure as Error).message;
      for (const path of BAD_PATHS.filter((path) => path.startsWith('tables[1]') || path.includes('links'))) {
        expect(message).toContain(`${path}:`);
      }
      expect(message).toContain('nothing was read or changed');
      const { rows } = await database.db
        .selectFrom('loose')
        .select('email')
        .execute()
        .then((rows) => ({ rows }));
      expect(rows).toHaveLength(2);
    },
  );
});
