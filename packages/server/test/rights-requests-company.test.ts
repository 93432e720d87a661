import type { RightsRequest } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import {
  startGrpcRightsClient,
  startHttpRightsClient,
  type RightsClientFixture,
} from './support/rights-client-fixtures.js';
import {
  ADMIN,
  ALICE,
  buildDatabases,
  CONNECTORS,
  rowsOf,
  SETTINGS,
  task,
  type Company,
  type Report,
} from './support/rights-request-company.js';
import type { TestSqlDatabase } from './support/sql-databases.js';
import { waitFor } from './support/wait-for.js';

/**
 * A small company end to end (DESIGN.md §6): PostgreSQL, MariaDB and SQLite databases with tagged
 * tables and links; HTTP rights clients (one slow, one failing twice first), a gRPC client and a
 * ticket client; dsar, delete and delete_pii with both strategies, down to the exact rows. The
 * requests build on each other (the delete finds the erasure by the delete_pii before it): they run
 * in this order, on one company.
 */

let dataDir: string;
let disposeLocation: () => Promise<void>;
let lethe: Lethe;
let port: number;
let token: string;
let company: Company;
const fixtures: Record<string, RightsClientFixture & { url?: string; address?: string }> = {};
const env: NodeJS.ProcessEnv = {};

async function open(): Promise<void> {
  lethe = await createLethe({
    dataDir,
    requestSettings: SETTINGS,
    requestTickMs: 100,
    grpcInsecure: true,
    env,
    rateLimit: false,
  });
  const address = await lethe.app.listen({ port, host: '127.0.0.1' });
  port = Number(new URL(address).port);
  token = (await lethe.tokens.mint({ ...ADMIN, ttlSeconds: 3600 })).token;
}

async function call(method: string, url: string, payload?: unknown) {
  const response = await lethe.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return response;
}

async function ok<T>(method: string, url: string, payload?: unknown): Promise<T> {
  const response = await call(method, url, payload);
  expect(response.statusCode, response.body).toBeLessThan(300);
  return response.json<T>();
}

/** Waits until the request leaves in_progress (or reaches `status`). */
async function settled(id: string, status?: string, timeoutMs = 20_000): Promise<RightsRequest> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const request = await ok<RightsRequest>('GET', `/v1/requests/${id}`);
    if (status ? request.status === status : request.status !== 'in_progress') return request;
    if (Date.now() > deadline)
      throw new Error(`request ${id} is still ${request.status}: ${JSON.stringify(request.tasks)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  const location = await SQLITE_BACKEND.create();
  dataDir = location.dataDir;
  disposeLocation = location.dispose;
  company = await buildDatabases();
  port = 0;
  await open();
  const jwksUrl = `http://127.0.0.1:${port}/.well-known/jwks.json`;
  const records = (name: string) =>
    new Map([
      [ALICE, [{ dataset: name, pk: `${name}-1`, fields: { email: ALICE, note: `<b>${name}</b>` } }]],
    ]);
  fixtures['newsletter'] = await startHttpRightsClient({
    jwksUrl,
    audience: 'rights-client:newsletter',
    records: records('subscribers'),
  });
  fixtures['analytics'] = await startHttpRightsClient({
    jwksUrl,
    audience: 'rights-client:analytics',
    latencyMs: 400,
    records: records('profiles'),
  });
  fixtures['billing'] = await startHttpRightsClient({
    jwksUrl,
    audience: 'rights-client:billing',
    failFirst: 2,
    records: records('invoices'),
  });
  fixtures['recommendations'] = await startGrpcRightsClient({
    jwksUrl,
    audience: 'rights-client:recommendations',
    records: records('affinities'),
  });

  // The data map: every system holds email addresses; each has its way to be asked.
  const email = [{ name: 'email', categories: ['user.contact.email'] }];
  for (const system of [
    'newsletter',
    'analytics',
    'billing',
    'recommendations',
    'warehouse',
    'crm',
    'shop',
    'support',
  ]) {
    await ok('PUT', `/v1/systems/${system}`, {
      team: `team-${system}`,
      datasets: [{ name: `${system}-data`, fields: email }],
    });
  }
  for (const name of ['newsletter', 'analytics', 'billing']) {
    await ok('PUT', `/v1/clients/${name}`, { system: name, protocol: 'http', address: fixtures[name]?.url });
  }
  await ok('PUT', '/v1/clients/recommendations', {
    system: 'recommendations',
    protocol: 'grpc',
    address: fixtures['recommendations']?.address,
  });
  await ok('PUT', '/v1/clients/warehouse-desk', { system: 'warehouse', protocol: 'ticket' });
  // Connectors are an admin's to register (they reach into databases).
  const dpo = token;
  token = (await lethe.tokens.mint({ subject: 'admin-ada', role: 'admin', ttlSeconds: 600 })).token;
  for (const [name, database] of Object.entries(company) as [keyof Company, TestSqlDatabase][]) {
    env[CONNECTORS[name].urlEnv] = database.url;
    await ok('PUT', `/v1/connectors/${name}`, CONNECTORS[name]);
  }
  token = dpo;
}, 120_000);

afterAll(async () => {
  await lethe?.close();
  for (const fixture of Object.values(fixtures)) await fixture.close();
  for (const database of Object.values(company ?? {})) await database?.dispose();
  await disposeLocation?.();
});

describe('a DSAR, exact', () => {
  let request: RightsRequest;

  it('plans every system and database, runs each task to the end and finishes with the ticket', async () => {
    const created = await call('POST', '/v1/requests', {
      id: 'dsar-1',
      type: 'dsar',
      identifiers: { email: ' Alice@Example.COM ', customKey: 'LOY-7' },
      jurisdiction: 'gdpr',
    });
    expect(created.statusCode, created.body).toBe(201);
    const targets = created
      .json<RightsRequest>()
      .tasks?.map((t) => `${t.target}:${t.protocol}`)
      .sort();
    expect(targets).toEqual(
      [
        'analytics:http',
        'billing:http',
        'newsletter:http',
        'recommendations:grpc',
        'warehouse-desk:ticket',
        'support:sqlite',
        ...(company.crm ? ['crm:postgres'] : []),
        ...(company.shop ? ['shop:mysql'] : []),
      ].sort(),
    );
    // Why each is asked: the planner's structured reasons, shown as text (the API's contract).
    const reasonsOf = (target: string) =>
      created.json<RightsRequest>().tasks?.find((t) => t.target === target)?.reasons;
    expect(reasonsOf('support')).toEqual([
      'SQL connector: searched directly',
      'data map: stores user.contact.email',
    ]);
    expect(reasonsOf('warehouse-desk')).toEqual(['data map: stores user.contact.email']);
    // Everything but the ticket finishes by itself; the ticket waits for a person.
    await waitFor(async () => {
      const now = await ok<RightsRequest>('GET', '/v1/requests/dsar-1');
      return (now.tasks ?? []).every((t) =>
        t.protocol === 'ticket' ? t.state === 'waiting' : t.state === 'done',
      );
    });
    request = await ok<RightsRequest>('GET', '/v1/requests/dsar-1');
    expect(request.status).toBe('in_progress');

    // billing failed twice (503) then answered: three attempts, two retries, each kept.
    const billing = task(request, 'billing');
    expect(billing.attempts).toBe(3);
    expect(billing.attemptLog.map((a) => a.outcome)).toEqual(['retry', 'retry', 'ok']);
    expect(billing.attemptLog[0]?.error).toMatch(/503/);
    // Each client saw the call token: audience itself, actor the DPO who filed the request.
    for (const name of ['newsletter', 'billing', 'recommendations']) {
      const calls = fixtures[name]?.calls.filter((c) => c.answered !== 401) ?? [];
      expect(calls.length, name).toBeGreaterThan(0);
      expect(calls.at(-1)?.actor?.id, name).toBe('dpo-dana');
    }

    const tickets = await ok<{ items: { requestId: string; task: number; system?: string }[] }>(
      'GET',
      '/v1/tickets',
    );
    const ticket = tickets.items.find((t) => t.requestId === 'dsar-1');
    expect(ticket?.system).toBe('warehouse');
    const done = await ok<RightsRequest>('POST', `/v1/requests/dsar-1/tasks/${ticket?.task}/complete`, {
      note: 'exported from the warehouse UI',
      records: [{ dataset: 'parcels', pk: 'P-9', fields: { recipient: 'Alice', city: 'London' } }],
    });
    expect(done.status).toBe('completed');
    expect(task(done, 'warehouse-desk')).toMatchObject({ state: 'done', completedBy: 'dpo:dpo-dana' });
  });

  it('reports the exact rows found, by datasource, category and semantic', async () => {
    const report = await ok<Report>('GET', '/v1/requests/dsar-1/report');
    expect(rowsOf(report)).toEqual(
      [
        'analytics/profiles#profiles-1 direct email+custom-key',
        'billing/invoices#invoices-1 direct email+custom-key',
        'newsletter/subscribers#subscribers-1 direct email+custom-key',
        'recommendations/affinities#affinities-1 direct email+custom-key',
        'warehouse-desk/parcels#P-9 direct ticket',
        'support.tickets#1 direct email',
        'support.ticket_notes#1 source_key source/customer',
        // exact walks the links too (the same rows a delete of this request would reach).
        ...(company.crm
          ? [
              'crm.customers#1 direct email',
              'crm.legacy_contacts#100 source_key source/crm-ref',
              'crm.orders#10 connected link:orders.customer_id',
              'crm.orders#11 connected link:orders.customer_id',
            ]
          : []),
        // The custom key matches case-sensitively: carol's "loy-7" is not Alice's "LOY-7".
        ...(company.shop ? ['shop.members#1 direct email'] : []),
      ].sort(),
    );
    const crmRow = report.items.find((row) => row.datasource === 'crm.customers');
    if (company.crm) expect(crmRow).toMatchObject({ semanticValue: ALICE, piiColumns: ['name', 'city'] });
    const csv = await call('GET', '/v1/requests/dsar-1/report?format=csv');
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.split('\r\n')[0]).toBe(
      'request_id,task,datasource,pk,match_category,semantic,semantic_value,semantic_value_hash,pii_columns,kept',
    );
  });

  it('gives the person a package with the values, as JSON and as a safe HTML page', async () => {
    const dsar = await ok<{
      sources: { datasource: string; records: { pk: string; values: Record<string, unknown> }[] }[];
    }>('GET', '/v1/requests/dsar-1/package');
    const values = (datasource: string) =>
      dsar.sources.find((source) => source.datasource === datasource)?.records.map((r) => r.values);
    expect(values('support.tickets')).toEqual([
      { id: 1, requester_email: 'Alice@Example.com', body: 'my parcel is late', customer_ref: 'C-1' },
    ]);
    expect(values('support.ticket_notes')).toEqual([
      { id: 1, customer_ref: 'C-1', note: 'follow-up for the late parcel' },
    ]);
    const html = await call('GET', '/v1/requests/dsar-1/package?format=html');
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toContain('&lt;b&gt;subscribers&lt;/b&gt;');
    expect(html.body).not.toContain('<b>subscribers</b>');
    // Delivered: the findings are destroyed, the package is gone, the report keeps hashes only.
    const delivered = await ok<RightsRequest>('POST', '/v1/requests/dsar-1/delivered');
    expect(delivered.pii.held).toBe(false);
    expect(delivered.identifiers).toBeUndefined();
    expect((await call('GET', '/v1/requests/dsar-1/package')).statusCode).toBe(410);
    const report = await ok<Report>('GET', '/v1/requests/dsar-1/report');
    expect(report.items.every((row) => row.semanticValue === undefined)).toBe(true);
  });
});

describe('a DSAR, connected', () => {
  it('reaches the same rows as exact here: links are walked by both, and no second identifier is found', async () => {
    await ok('POST', '/v1/requests', {
      id: 'dsar-2',
      type: 'dsar',
      strategy: 'connected',
      identifiers: { email: ALICE },
    });
    await waitFor(
      async () => task(await ok('GET', '/v1/requests/dsar-2'), 'warehouse-desk').state === 'waiting',
    );
    const pending = await ok<RightsRequest>('GET', '/v1/requests/dsar-2');
    await ok('POST', `/v1/requests/dsar-2/tasks/${task(pending, 'warehouse-desk').task}/complete`, {});
    expect((await settled('dsar-2')).status).toBe('completed');
    const connected = rowsOf(await ok<Report>('GET', '/v1/requests/dsar-2/report'));
    const exact = rowsOf(await ok<Report>('GET', '/v1/requests/dsar-1/report'));
    const where = (row: string) => row.split(' ')[0];
    const onlyConnected = connected.filter((row) => !exact.some((other) => where(other) === where(row)));
    expect(onlyConnected).toEqual([]);
    if (company.crm) expect(connected).toContain('crm.orders#10 connected link:orders.customer_id');
  });
});

describe('delete_pii, connected', () => {
  it('nulls the tagged columns of every matched row, following links, and nothing else', async () => {
    const created = await ok<RightsRequest>('POST', '/v1/requests', {
      id: 'pii-1',
      type: 'delete_pii',
      strategy: 'connected',
      identifiers: { email: ALICE },
    });
    expect(created.status).toBe('in_progress');
    const ticket = task(await settled('pii-1', 'in_progress'), 'warehouse-desk');
    await waitFor(
      async () => task(await ok('GET', '/v1/requests/pii-1'), 'warehouse-desk').state === 'waiting',
    );
    await ok('POST', `/v1/requests/pii-1/tasks/${ticket.task}/complete`, { deleted: 1 });
    const done = await settled('pii-1');
    expect(done.status).toBe('completed');

    const support = await company.support.db.selectFrom('tickets').selectAll().orderBy('id').execute();
    expect(support.map((row) => [Number(row['id']), row['body'], row['requester_email']])).toEqual([
      [1, null, 'Alice@Example.com'],
      [2, 'refund please', 'bob@example.com'],
    ]);
    const notes = await company.support.db.selectFrom('ticket_notes').selectAll().orderBy('id').execute();
    expect(notes.map((row) => [Number(row['id']), row['note']])).toEqual([
      [1, null],
      [2, 'refund sent'],
    ]);
    if (company.crm) {
      const customers = await company.crm.db.selectFrom('customers').selectAll().orderBy('id').execute();
      expect(customers.map((row) => [row['id'], row['name'], row['city'], row['email']])).toEqual([
        [1, null, null, ALICE],
        [2, 'Bob', 'Boston', 'bob@example.com'],
      ]);
      const orders = await company.crm.db.selectFrom('orders').selectAll().orderBy('id').execute();
      expect(orders.map((row) => [row['id'], row['shipping_address'], row['total']])).toEqual([
        [10, null, 30],
        [11, null, 12],
        [12, '9 Elm St', 7],
      ]);
      const report = await ok<Report>('GET', '/v1/requests/pii-1/report');
      expect(rowsOf(report).filter((row) => row.startsWith('crm.orders'))).toEqual([
        'crm.orders#10 connected link:orders.customer_id',
        'crm.orders#11 connected link:orders.customer_id',
      ]);
    }
    // The clients were asked to clear personal fields only.
    const calls = fixtures['newsletter']?.calls.filter((c) => c.operation === 'delete') ?? [];
    expect((calls.at(-1)?.body as { mode?: string }).mode).toBe('pii');
    // The identifiers are gone at completion; only keyed hashes remain.
    expect(done.pii.held).toBe(false);
    expect(done.identifiers).toBeUndefined();
  });
});

describe('delete, exact', () => {
  it('deletes the matched rows in each database, and flags the person when they come back', async () => {
    await ok('POST', '/v1/requests', {
      id: 'del-1',
      type: 'delete',
      identifiers: { email: ALICE, subject: 'u-alice' },
    });
    const pending = await settled('del-1', 'in_progress');
    await waitFor(
      async () => task(await ok('GET', '/v1/requests/del-1'), 'warehouse-desk').state === 'waiting',
    );
    await ok('POST', `/v1/requests/del-1/tasks/${task(pending, 'warehouse-desk').task}/complete`, {
      deleted: 2,
    });
    const done = await settled('del-1');
    expect(done.status, done.statusReason).toBe('completed');
    expect(task(done, 'warehouse-desk').rowsChanged).toBe(2);

    // Exact: the direct match and its source-key sibling go; bob stays.
    for (const table of ['tickets', 'ticket_notes']) {
      const left = await company.support.db.selectFrom(table).select('id').orderBy('id').execute();
      expect(
        left.map((row) => Number(row['id'])),
        table,
      ).toEqual([2]);
    }
    if (company.crm) {
      const customers = await company.crm.db.selectFrom('customers').select('id').orderBy('id').execute();
      expect(customers.map((row) => row['id'])).toEqual([2]);
    }
    if (company.shop) {
      const members = await company.shop.db
        .selectFrom('members')
        .select('member_id')
        .orderBy('member_id')
        .execute();
      expect(members.map((row) => row['member_id'])).toEqual([2]);
    }
    expect(fixtures['newsletter']?.deleted.has(ALICE)).toBe(true);

    // The same person again: the new request names the erasure that removed them before.
    const again = await ok<RightsRequest>('POST', '/v1/requests', {
      type: 'dsar',
      identifiers: { email: 'ALICE@example.com' },
    });
    // The first erasure of her was the delete_pii above.
    expect(again.previouslyErasedBy).toBe('pii-1');

    // Telemetry about her: accepted, and flagged as data that came back from that system.
    const dpo = token;
    token = (await lethe.tokens.mint({ subject: 'admin-ada', role: 'admin', ttlSeconds: 600 })).token;
    try {
      await ok('PUT', '/v1/policies/newsletter-sending', {
        purpose: 'marketing.email',
        retention: 'P6M',
        legalBasis: 'consent',
      });
      const at = new Date().toISOString();
      const event = (subject: string) => ({
        subject,
        system: 'newsletter',
        policy: 'newsletter-sending',
        fields: ['newsletter-data.email'],
        at,
      });
      const ingest = await ok<{ accepted: number }>('POST', '/v1/events', {
        events: [event('u-alice'), event('u-bob'), event('u-alice')],
      });
      expect(ingest.accepted).toBe(3);
      const hits = await ok<{
        items: { requestId: string; subject: string; system: string; count: number }[];
      }>('GET', '/v1/suppressions/hits');
      expect(hits.items).toEqual([
        expect.objectContaining({ requestId: 'del-1', subject: 'u-alice', system: 'newsletter', count: 2 }),
      ]);
    } finally {
      token = dpo;
    }
  });
});

describe('failure past the retry budget', () => {
  it('marks the task and the request failed with the reason, and a person can retry it', async () => {
    const saved = env['SUPPORT_DATABASE_URL'];
    delete env['SUPPORT_DATABASE_URL'];
    try {
      await ok('POST', '/v1/requests', {
        id: 'fail-1',
        type: 'dsar',
        identifiers: { email: 'erin@example.com' },
      });
      const waiting = await settled('fail-1', 'in_progress');
      await waitFor(async () => task(await ok('GET', '/v1/requests/fail-1'), 'support').state === 'failed');
      await ok('POST', `/v1/requests/fail-1/tasks/${task(waiting, 'warehouse-desk').task}/complete`, {});
      const failed = await settled('fail-1');
      expect(failed.status).toBe('failed');
      expect(failed.statusReason).toMatch(/SUPPORT_DATABASE_URL is not set/);
    } finally {
      env['SUPPORT_DATABASE_URL'] = saved;
    }
    const retried = await ok<RightsRequest>(
      'POST',
      `/v1/requests/fail-1/tasks/${task(await ok('GET', '/v1/requests/fail-1'), 'support').task}/retry`,
    );
    expect(retried.status).toBe('in_progress');
    const done = await settled('fail-1');
    expect(done.status).toBe('completed');
    expect(task(done, 'support').attemptLog.map((a) => a.outcome)).toEqual(['failed', 'ok']);
  });
});
