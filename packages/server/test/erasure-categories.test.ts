import type { ConnectorInput, RightsRequest } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import {
  startGrpcRightsClient,
  startHttpRightsClient,
  type GrpcRightsClientFixture,
  type HttpRightsClientFixture,
  type RecordedCall,
} from './support/rights-client-fixtures.js';
import { SETTINGS } from './support/rights-request-company.js';
import { ALL_SQL_DATABASE_KINDS, type TestSqlDatabase } from './support/sql-databases.js';

/**
 * A delete_pii limited to data categories, end to end (docs/rights-requests.md "Erasure per table
 * and per column"): filed through the HTTP API, run by the request runner against a SQLite
 * connector and real HTTP and gRPC rights clients on loopback. "Erase the contact data, keep the
 * name" must clear exactly the contact columns, and the clients must be told which categories.
 */

const ADA = 'ada@example.com';
const BOB = 'bob@example.com';
const CYD = 'cyd@example.com';

const CONNECTOR: ConnectorInput = {
  type: 'sqlite',
  urlEnv: 'SHOP_DATABASE_URL',
  system: 'shop',
  tables: [
    {
      name: 'customers',
      primaryKey: ['id'],
      columns: {
        email: { tags: ['email'], categories: ['user.contact.email'] },
        phone: { categories: ['user.contact.phone_number'] },
        name: { categories: ['user.name'] },
      },
    },
  ],
};

let dataDir: string;
let disposeLocation: () => Promise<void>;
let lethe: Lethe;
let token: string;
let shop: TestSqlDatabase;
let http: HttpRightsClientFixture;
let grpc: GrpcRightsClientFixture;
const env: NodeJS.ProcessEnv = {};

async function call(method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) {
  return lethe.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload }),
  });
}

async function ok<T>(method: 'GET' | 'POST' | 'PUT', url: string, payload?: object): Promise<T> {
  const response = await call(method, url, payload);
  expect(response.statusCode, response.body).toBeLessThan(300);
  return response.json<T>();
}

/** Files a request and waits until it leaves in_progress. */
async function run(input: object): Promise<RightsRequest> {
  const created = await call('POST', '/v1/requests', input);
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json<RightsRequest>().id;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const request = await ok<RightsRequest>('GET', `/v1/requests/${id}`);
    if (request.status !== 'in_progress' && request.status !== 'received') return request;
    if (Date.now() > deadline) throw new Error(`request ${id} is still ${request.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function customers() {
  const rows = await shop.db.selectFrom('customers').selectAll().orderBy('id').execute();
  return rows.map((row) => ({ ...row, id: Number(row['id']) }));
}

/** The delete calls a client received for one identifier value. */
function deletesFor(calls: readonly RecordedCall[], email: string): RecordedCall[] {
  return calls.filter((c) => c.operation === 'delete' && JSON.stringify(c.body).includes(email));
}

beforeAll(async () => {
  const location = await SQLITE_BACKEND.create();
  dataDir = location.dataDir;
  disposeLocation = location.dispose;
  const sqlite = ALL_SQL_DATABASE_KINDS.find((kind) => kind.type === 'sqlite');
  if (!sqlite) throw new Error('SQLite is always available');
  shop = await sqlite.create();
  await shop.exec(
    'create table customers (id integer primary key, email text, phone text, name text not null)',
    `insert into customers values (1, '${ADA}', '+442079460958', 'Ada'),
      (2, '${BOB}', '+12025550143', 'Bob'), (3, '${CYD}', '+33142685300', 'Cyd')`,
  );
  env['SHOP_DATABASE_URL'] = shop.url;
  lethe = await createLethe({
    dataDir,
    requestSettings: SETTINGS,
    requestTickMs: 50,
    grpcInsecure: true,
    env,
    rateLimit: false,
  });
  token = (await lethe.tokens.mint({ subject: 'admin-ada', role: 'admin', ttlSeconds: 3600 })).token;

  const records = new Map(
    [ADA, BOB, CYD].map((email) => [
      email,
      [{ dataset: 'profiles', pk: email, fields: { email, name: email.split('@')[0] } }],
    ]),
  );
  http = await startHttpRightsClient({ audience: 'rights-client:newsletter', records });
  grpc = await startGrpcRightsClient({ audience: 'rights-client:recommendations', records });
  const email = [{ name: 'email', categories: ['user.contact.email'] }];
  for (const system of ['newsletter', 'recommendations', 'shop']) {
    await ok('PUT', `/v1/systems/${system}`, {
      team: `team-${system}`,
      datasets: [{ name: `${system}-data`, fields: email }],
    });
  }
  await ok('PUT', '/v1/clients/newsletter', { system: 'newsletter', protocol: 'http', address: http.url });
  await ok('PUT', '/v1/clients/recommendations', {
    system: 'recommendations',
    protocol: 'grpc',
    address: grpc.address,
  });
  await ok('PUT', '/v1/connectors/shop', CONNECTOR);
  // Requests are filed by the DPO, as in practice.
  token = (await lethe.tokens.mint({ subject: 'dpo-dana', role: 'dpo', ttlSeconds: 3600 })).token;
}, 60_000);

afterAll(async () => {
  await lethe?.close();
  await http?.close();
  await grpc?.close();
  await shop?.dispose();
  await disposeLocation?.();
});

describe('a delete_pii limited to user.contact', () => {
  it('clears the contact columns, keeps the name, and tells each client the categories', async () => {
    const before = await customers();
    const done = await run({
      type: 'delete_pii',
      identifiers: { email: ADA },
      categories: ['user.contact'],
    });
    expect(done.status, done.statusReason).toBe('completed');
    expect(done.categories).toEqual(['user.contact']);
    expect(done.tasks?.map((t) => `${t.target}:${t.state}`).sort()).toEqual([
      'newsletter:done',
      'recommendations:done',
      'shop:done',
    ]);

    const after = await customers();
    expect(after[0]).toEqual({ id: 1, email: null, phone: null, name: 'Ada' });
    // The others are untouched, value for value.
    expect(after.slice(1)).toEqual(before.slice(1));

    const [httpDelete, ...httpMore] = deletesFor(http.calls, ADA);
    expect(httpMore).toEqual([]);
    expect(httpDelete?.body).toMatchObject({ mode: 'pii', categories: ['user.contact'] });
    const [grpcDelete, ...grpcMore] = deletesFor(grpc.calls, ADA);
    expect(grpcMore).toEqual([]);
    expect(grpcDelete?.body).toMatchObject({ mode: 'MODE_PII', categories: ['user.contact'] });
  });
});

describe('a delete_pii without categories', () => {
  it('clears every personal column and sends no category limit', async () => {
    const before = await customers();
    const done = await run({ type: 'delete_pii', identifiers: { email: CYD } });
    expect(done.status, done.statusReason).toBe('completed');
    expect(done.categories).toBeUndefined();

    const after = await customers();
    // name is NOT NULL: rewritten to 'erased' rather than nulled.
    expect(after[2]).toEqual({ id: 3, email: null, phone: null, name: 'erased' });
    expect(after.slice(0, 2)).toEqual(before.slice(0, 2));

    const [httpDelete] = deletesFor(http.calls, CYD);
    expect(httpDelete?.body).toMatchObject({ mode: 'pii' });
    expect(httpDelete?.body).not.toHaveProperty('categories');
    const [grpcDelete] = deletesFor(grpc.calls, CYD);
    expect(grpcDelete?.body).toMatchObject({ mode: 'MODE_PII', categories: [] });
  });
});

describe('categories refused at intake', () => {
  it.each([
    ['on a dsar', { type: 'dsar', identifiers: { email: BOB }, categories: ['user.contact'] }, /delete_pii/],
    [
      'on a delete',
      { type: 'delete', identifiers: { email: BOB }, categories: ['user.contact'] },
      /delete_pii/,
    ],
    [
      'that the taxonomy does not know',
      { type: 'delete_pii', identifiers: { email: BOB }, categories: ['user.contact', 'user.shoe_size'] },
      /user\.shoe_size/,
    ],
  ])('%s: 400 INVALID_ERASURE_CATEGORY, nothing filed or changed', async (_, input, message) => {
    const before = await customers();
    const listed = await ok<{ items: unknown[] }>('GET', '/v1/requests');
    const response = await call('POST', '/v1/requests', input);
    expect(response.statusCode, response.body).toBe(400);
    const error = response.json<{ error: { code: string; message: string } }>().error;
    expect(error.code).toBe('INVALID_ERASURE_CATEGORY');
    expect(error.message).toMatch(message);
    expect((await ok<{ items: unknown[] }>('GET', '/v1/requests')).items).toHaveLength(listed.items.length);
    expect(await customers()).toEqual(before);
  });
});
