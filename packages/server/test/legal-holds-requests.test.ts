import type { AuditEntry, RightsRequest } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { startHttpRightsClient, type HttpRightsClientFixture } from './support/rights-client-fixtures.js';
import { SETTINGS, task } from './support/rights-request-company.js';
import { availableSqlDatabaseKinds, type TestSqlDatabase } from './support/sql-databases.js';
import { waitFor } from './support/wait-for.js';

const available = await availableBackends();
const SUBJECTS = [1, 2, 3, 4, 5, 6];
const emailOf = (n: number) => `u${n}@example.com`;

/**
 * Legal holds stop erasure by rights requests (docs/rights-requests.md "Legal holds"), on every
 * backend: two HTTP rights clients on loopback (crm-api for system crm, mail), a SQLite connector
 * (support) and a ticket (archive-desk). A held task ends `held` without being called; the rest
 * of the request erases; a hold is read when the task runs, not when the request is filed.
 */
describe.each(ALL_BACKENDS)('legal holds over rights requests: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  let support: TestSqlDatabase;
  const fixtures: Record<'crm' | 'mail', HttpRightsClientFixture | undefined> = {
    crm: undefined,
    mail: undefined,
  };
  let dpo = '';
  let admin = '';

  async function call(method: string, url: string, payload?: unknown, token = dpo) {
    return lethe.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  async function ok<T>(method: string, url: string, payload?: unknown, token = dpo): Promise<T> {
    const response = await call(method, url, payload, token);
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json<T>();
  }
  const get = (id: string) => ok<RightsRequest>('GET', `/v1/requests/${id}`);

  /** Files an erasure (or DSAR) for subject `n`; it waits for approval, so holds can move first. */
  async function file(id: string, n: number, type = 'delete'): Promise<void> {
    await ok('POST', '/v1/requests', {
      id,
      type,
      identifiers: { subject: `u-${n}`, email: emailOf(n) },
      jurisdiction: 'gdpr',
    });
  }
  /** Approves and waits until every task but the ticket has finished (the ticket: waiting or held). */
  async function approveAndRun(id: string): Promise<RightsRequest> {
    await ok('POST', `/v1/requests/${id}/approve`);
    await waitFor(async () => {
      const request = await get(id);
      return (
        request.status !== 'in_progress' ||
        (request.tasks ?? []).every((t) => ['done', 'held', 'failed', 'waiting'].includes(t.state))
      );
    }, 20_000);
    return get(id);
  }
  async function completeTicket(id: string): Promise<RightsRequest> {
    const ticket = task(await get(id), 'archive-desk');
    expect(ticket.state).toBe('waiting');
    await ok('POST', `/v1/requests/${id}/tasks/${ticket.task}/complete`, { deleted: 1 });
    return get(id);
  }
  const supportRows = async (n: number) =>
    (await support.db.selectFrom('tickets').select('id').where('requester_email', '=', emailOf(n)).execute())
      .length;
  const erasedBy = (fixture: 'crm' | 'mail', n: number) =>
    fixtures[fixture]?.deleted.has(emailOf(n)) ?? false;

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    dispose = location.dispose;
    const sqlite = (await availableSqlDatabaseKinds()).find((kind) => kind.type === 'sqlite');
    if (!sqlite) throw new Error('SQLite is always available');
    support = await sqlite.create();
    await support.exec(
      'create table tickets (id integer primary key, requester_email text, body text)',
      `insert into tickets values ${SUBJECTS.map((n) => `(${n}, '${emailOf(n)}', 'ticket ${n}')`).join(', ')}`,
    );
    const env: NodeJS.ProcessEnv = { HOLD_SUPPORT_URL: support.url };
    lethe = await createLethe({
      ...location,
      requestSettings: { ...SETTINGS, requireApproval: true },
      requestTickMs: 50,
      env,
      rateLimit: false,
    });
    const address = await lethe.app.listen({ port: 0, host: '127.0.0.1' });
    dpo = (await lethe.tokens.mint({ subject: 'dpo-dana', role: 'dpo', ttlSeconds: 600 })).token;
    admin = (await lethe.tokens.mint({ subject: 'admin-ada', role: 'admin', ttlSeconds: 600 })).token;
    const records = (dataset: string) =>
      new Map(SUBJECTS.map((n) => [emailOf(n), [{ dataset, pk: `${n}`, fields: { email: emailOf(n) } }]]));
    for (const name of ['crm', 'mail'] as const) {
      fixtures[name] = await startHttpRightsClient({
        jwksUrl: `${address}/.well-known/jwks.json`,
        audience: `rights-client:${name === 'crm' ? 'crm-api' : 'mail'}`,
        records: records(name),
      });
    }
    const email = { name: 'email', categories: ['user.contact.email'] };
    const systems: Record<string, object[]> = {
      crm: [email, { name: 'name', categories: ['user.name'] }],
      mail: [email],
      support: [email],
      archive: [email],
    };
    for (const [system, fields] of Object.entries(systems)) {
      await ok('PUT', `/v1/systems/${system}`, {
        team: `team-${system}`,
        datasets: [{ name: `${system}-data`, fields }],
      });
    }
    await ok('PUT', '/v1/clients/crm-api', { system: 'crm', protocol: 'http', address: fixtures.crm?.url });
    await ok('PUT', '/v1/clients/mail', { system: 'mail', protocol: 'http', address: fixtures.mail?.url });
    await ok('PUT', '/v1/clients/archive-desk', { system: 'archive', protocol: 'ticket' });
    const connector = {
      type: 'sqlite',
      urlEnv: 'HOLD_SUPPORT_URL',
      system: 'support',
      tables: [
        {
          name: 'tickets',
          primaryKey: ['id'],
          columns: { requester_email: ['email'], body: ['compliance/pii'] },
        },
      ],
    };
    await ok('PUT', '/v1/connectors/support', connector, admin);
    // Lethe's own records of u-1 (held) and u-6 (not): a use of crm's e-mail field yesterday.
    await ok('PUT', '/v1/policies/crm-care', {
      purpose: 'essential.account',
      retention: 'P2Y',
      legalBasis: 'contract',
    });
    const at = new Date(Date.now() - 86_400_000).toISOString();
    const events = [1, 6].map((n) => ({
      id: `use-${n}`,
      subject: `u-${n}`,
      system: 'crm',
      policy: 'crm-care',
      fields: ['crm-data.email'],
      at,
    }));
    await ok('POST', '/v1/events', { events }, admin);
  }, 60_000);

  afterAll(async () => {
    if (missing) return;
    await lethe?.close();
    for (const fixture of Object.values(fixtures)) await fixture?.close();
    await support?.dispose();
    await dispose?.();
  });

  it.skipIf(missing)('keeps the held system of a held subject and erases the rest', async () => {
    await ok('PUT', '/v1/holds/lit-crm', { reason: 'claim 42', subjects: ['u-1'], systems: ['crm'] });
    await file('del-1', 1);
    const running = await approveAndRun('del-1');
    const crm = task(running, 'crm-api');
    expect(crm.state).toBe('held');
    expect(crm.rowsChanged).toBe(0);
    expect(crm.reasons).toContain('legal hold "lit-crm": kept, not erased');
    expect(crm.attemptLog.map((a) => a.outcome)).toEqual(['legal-hold']);
    expect(task(running, 'mail').state).toBe('done');
    expect(task(running, 'support').state).toBe('done');
    const request = await completeTicket('del-1');
    expect(request.status).toBe('completed');
    expect(request.statusReason).toBe('kept under legal hold: crm-api (hold "lit-crm")');
    // The held client was never asked to delete; everything else was erased.
    expect(fixtures.crm?.calls.some((c) => c.operation === 'delete')).toBe(false);
    expect(fixtures.crm?.records.has(emailOf(1))).toBe(true);
    expect(erasedBy('mail', 1)).toBe(true);
    expect(await supportRows(1)).toBe(0);
    expect(await supportRows(2)).toBe(1);
    // Lethe keeps its own records of a subject whose erasure was partly held (the feed shows them held).
    expect((await call('GET', '/v1/subjects/u-1')).statusCode).toBe(200);
    const log = await ok<{ items: AuditEntry[] }>('GET', '/v1/audit?limit=1000', undefined, admin);
    expect(
      log.items.filter((entry) => entry.action === 'request.task-held').map((entry) => entry.target),
    ).toEqual([`request:del-1 task=${crm.task} hold:lit-crm`]);
  });

  it.skipIf(missing)('stops every erasure when a hold is placed after filing, before the run', async () => {
    await file('del-2', 2);
    await ok('PUT', '/v1/holds/freeze-u2', { reason: 'regulator inquiry', subjects: ['u-2'] });
    const request = await approveAndRun('del-2');
    expect(request.status).toBe('completed');
    expect((request.tasks ?? []).map((t) => `${t.target}:${t.state}`).sort()).toEqual([
      'archive-desk:held',
      'crm-api:held',
      'mail:held',
      'support:held',
    ]);
    expect(erasedBy('crm', 2) || erasedBy('mail', 2)).toBe(false);
    expect(await supportRows(2)).toBe(1);
    expect(request.statusReason).toMatch(/^kept under legal hold: .*support \(hold "freeze-u2"\)/);
  });

  it.skipIf(missing)('lets a retry erase once the hold is released', async () => {
    await ok('PUT', '/v1/holds/lit-u3', { reason: 'claim 43', subjects: ['u-3'], systems: ['crm'] });
    await file('del-3', 3);
    const running = await approveAndRun('del-3');
    const crm = task(running, 'crm-api');
    expect(crm.state).toBe('held');
    // Still held: a retry runs, meets the hold again and ends held.
    await ok('POST', `/v1/requests/del-3/tasks/${crm.task}/retry`);
    await waitFor(async () => task(await get('del-3'), 'crm-api').attempts === 2);
    await waitFor(async () => task(await get('del-3'), 'crm-api').state === 'held');
    expect(erasedBy('crm', 3)).toBe(false);

    expect((await call('DELETE', '/v1/holds/lit-u3')).statusCode).toBe(204);
    await ok('POST', `/v1/requests/del-3/tasks/${crm.task}/retry`);
    await waitFor(async () => task(await get('del-3'), 'crm-api').state === 'done');
    expect(erasedBy('crm', 3)).toBe(true);
    const done = task(await get('del-3'), 'crm-api');
    expect(done.reasons.some((reason) => reason.startsWith('legal hold'))).toBe(false);
    const request = await completeTicket('del-3');
    expect(request.status).toBe('completed');
    expect(request.statusReason).toBeUndefined();
  });

  it.skipIf(missing)('never holds a DSAR', async () => {
    await ok('PUT', '/v1/holds/freeze-u4', { reason: 'claim 44', subjects: ['u-4'] });
    await file('dsar-4', 4, 'dsar');
    const request = await approveAndRun('dsar-4');
    expect(task(request, 'crm-api').state).toBe('done');
    expect(task(request, 'crm-api').rowsFound).toBe(1);
    expect(task(request, 'mail').state).toBe('done');
    expect(task(request, 'support').rowsFound).toBe(1);
    expect(task(request, 'archive-desk').state).toBe('waiting');
  });

  it.skipIf(missing)('holds by category only the systems that declare a held category', async () => {
    await ok('PUT', '/v1/holds/names-u5', {
      reason: 'claim 45',
      subjects: ['u-5'],
      categories: ['user.name'],
    });
    await file('del-5', 5);
    const running = await approveAndRun('del-5');
    expect(task(running, 'crm-api').state).toBe('held');
    expect(task(running, 'mail').state).toBe('done');
    // The connector's columns carry no category under user.name: erased.
    expect(task(running, 'support').state).toBe('done');
    expect(await supportRows(5)).toBe(0);
    expect(erasedBy('crm', 5)).toBe(false);
  });

  it.skipIf(missing)('erases a subject no hold covers as before', async () => {
    await file('del-6', 6);
    const running = await approveAndRun('del-6');
    expect((running.tasks ?? []).filter((t) => t.state === 'held')).toEqual([]);
    const request = await completeTicket('del-6');
    expect(request.status).toBe('completed');
    expect(request.statusReason).toBeUndefined();
    expect(erasedBy('crm', 6) && erasedBy('mail', 6)).toBe(true);
    expect(await supportRows(6)).toBe(0);
    expect((await call('GET', '/v1/subjects/u-6')).statusCode).toBe(404);
  });
});
