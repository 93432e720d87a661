import { createHash } from 'node:crypto';
import type { AuditEntry, RightsRequest } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { startHttpRightsClient, type HttpRightsClientFixture } from './support/rights-client-fixtures.js';
import { SETTINGS, task } from './support/rights-request-company.js';
import { waitFor } from './support/wait-for.js';

const available = await availableBackends();

/**
 * Requests never dead-end (docs/rights-requests.md "When a system fails"), on every backend: a
 * rights client that answers 503 while `down` (crm-api, system crm) and a ticket (desk, system
 * desk). A failed task is retried, skipped with a reason or marked done by hand; a request is
 * canceled or extended once; a failed or canceled request may be filed again; a DSAR ticket
 * carries records and a file into the package.
 */
describe.each(ALL_BACKENDS)('requests that never dead-end: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  let crm: HttpRightsClientFixture | undefined;
  let down = true;
  let dpo = '';
  let admin = '';
  let service = '';
  let limitedService = '';
  let serial = 0;

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
  async function refused(
    status: number,
    code: string,
    method: string,
    url: string,
    payload?: unknown,
    token = dpo,
  ) {
    const response = await call(method, url, payload, token);
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json<{ error: { code: string } }>().error.code).toBe(code);
  }
  const get = (id: string) => ok<RightsRequest>('GET', `/v1/requests/${id}`);
  const taskUrl = async (id: string, target: string, step: string) =>
    `/v1/requests/${id}/tasks/${task(await get(id), target).task}/${step}`;

  /** Files a request for a fresh person and waits until crm-api failed and the desk ticket waits. */
  async function failing(type: 'dsar' | 'delete', person = `p${(serial += 1)}`): Promise<string> {
    const id = `${type}-${person}-${serial}`;
    await ok('POST', '/v1/requests', { id, type, identifiers: { email: `${person}@example.com` } });
    await waitFor(async () => {
      const request = await get(id);
      return task(request, 'crm-api').state === 'failed' && task(request, 'desk').state === 'waiting';
    }, 20_000);
    return id;
  }
  async function auditTargets(action: string): Promise<string[]> {
    const log = await ok<{ items: AuditEntry[] }>('GET', '/v1/audit?limit=1000', undefined, admin);
    return log.items.filter((entry) => entry.action === action).map((entry) => entry.target ?? '');
  }

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    dispose = location.dispose;
    lethe = await createLethe({
      ...location,
      requestSettings: { ...SETTINGS, maxAttempts: 2 },
      requestTickMs: 50,
      rateLimit: false,
    });
    const address = await lethe.app.listen({ port: 0, host: '127.0.0.1' });
    dpo = (await lethe.tokens.mint({ subject: 'dpo-dana', role: 'dpo', ttlSeconds: 600 })).token;
    admin = (await lethe.tokens.mint({ subject: 'admin-ada', role: 'admin', ttlSeconds: 600 })).token;
    service = (
      await lethe.tokens.mint({ subject: 'desk-bot', role: 'service', system: 'desk', ttlSeconds: 600 })
    ).token;
    limitedService = (
      await lethe.tokens.mint({
        subject: 'desk-mail-bot',
        role: 'service',
        system: 'desk',
        categories: ['user.contact'],
        ttlSeconds: 600,
      })
    ).token;
    crm = await startHttpRightsClient({
      jwksUrl: `${address}/.well-known/jwks.json`,
      audience: 'rights-client:crm-api',
      records: new Map(
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => [
          `p${n}@example.com`,
          [{ dataset: 'customers', pk: `${n}`, fields: { email: `p${n}@example.com` } }],
        ]),
      ),
      respond: () => (down ? { status: 503, body: { error: 'maintenance' } } : undefined),
    });
    const email = { name: 'email', categories: ['user.contact.email'] };
    for (const system of ['crm', 'desk']) {
      await ok('PUT', `/v1/systems/${system}`, {
        team: `team-${system}`,
        datasets: [{ name: `${system}-data`, fields: [email] }],
      });
    }
    await ok('PUT', '/v1/clients/crm-api', { system: 'crm', protocol: 'http', address: crm.url });
    await ok('PUT', '/v1/clients/desk', { system: 'desk', protocol: 'ticket' });
  }, 60_000);

  afterAll(async () => {
    if (missing) return;
    await lethe?.close();
    await crm?.close();
    await dispose?.();
  });

  it.skipIf(missing)('retries a failed task: it runs again with a fresh budget and succeeds', async () => {
    const id = await failing('dsar');
    // Only a failed or held task can be retried; an open ticket cannot.
    await refused(409, 'TASK_STATE_CONFLICT', 'POST', await taskUrl(id, 'desk', 'retry'));
    await refused(403, 'FORBIDDEN', 'POST', await taskUrl(id, 'crm-api', 'retry'), {}, service);
    await ok('POST', await taskUrl(id, 'desk', 'complete'), { note: 'nothing at the desk' }, service);
    await waitFor(async () => (await get(id)).status === 'failed');
    expect((await get(id)).statusReason).toContain('crm-api');

    down = false;
    try {
      const retried = await ok<RightsRequest>('POST', await taskUrl(id, 'crm-api', 'retry'));
      expect(retried.status).toBe('in_progress');
      await waitFor(async () => (await get(id)).status === 'completed', 20_000);
    } finally {
      down = true;
    }
    const done = await get(id);
    expect(task(done, 'crm-api')).toMatchObject({ state: 'done', rowsFound: 1, attempts: 3 });
    expect(done.statusReason).toBeUndefined();
    await refused(409, 'REQUEST_STATE_CONFLICT', 'POST', await taskUrl(id, 'crm-api', 'skip'), {
      reason: 'late',
    });
  });

  it.skipIf(missing)(
    'skips a failed task with a reason: the request completes and says what it skipped',
    async () => {
      const id = await failing('dsar');
      await refused(400, 'VALIDATION_FAILED', 'POST', await taskUrl(id, 'crm-api', 'skip'), {});
      await refused(400, 'VALIDATION_FAILED', 'POST', await taskUrl(id, 'crm-api', 'skip'), { reason: '' });
      // A service token completes its own tickets, but skipping a system is the DPO's decision.
      await refused(403, 'FORBIDDEN', 'POST', await taskUrl(id, 'desk', 'skip'), { reason: 'x' }, service);
      await refused(404, 'TASK_NOT_FOUND', 'POST', `/v1/requests/${id}/tasks/99/skip`, { reason: 'x' });

      const skipped = await ok<RightsRequest>('POST', await taskUrl(id, 'crm-api', 'skip'), {
        reason: 'CRM decommissioned; its data was migrated to desk',
      });
      expect(task(skipped, 'crm-api')).toMatchObject({
        state: 'skipped',
        completedBy: 'dpo:dpo-dana',
        note: 'CRM decommissioned; its data was migrated to desk',
      });
      expect(skipped.status).toBe('in_progress'); // the ticket still waits
      await refused(409, 'TASK_STATE_CONFLICT', 'POST', await taskUrl(id, 'crm-api', 'skip'), {
        reason: 'again',
      });
      await refused(409, 'TASK_STATE_CONFLICT', 'POST', await taskUrl(id, 'crm-api', 'retry'));

      // A category-limited token completing the last ticket reads no free text: not the skip reason.
      const seen = await ok<RightsRequest>('POST', await taskUrl(id, 'desk', 'complete'), {}, limitedService);
      expect(seen.status).toBe('completed');
      expect(seen.statusReason).toBeUndefined();
      expect(JSON.stringify(seen)).not.toContain('decommissioned');

      const completed = await get(id);
      expect(completed.statusReason).toBe(
        'skipped: crm-api (CRM decommissioned; its data was migrated to desk)',
      );
      const dsar = await ok<{ skipped: unknown[]; sources: { datasource: string }[] }>(
        'GET',
        `/v1/requests/${id}/package`,
      );
      expect(dsar.skipped).toEqual([
        { source: 'crm-api', system: 'crm', reason: 'CRM decommissioned; its data was migrated to desk' },
      ]);
      expect(dsar.sources.map((source) => source.datasource)).not.toContain('crm-api/customers');
      const html = await call('GET', `/v1/requests/${id}/package?format=html`);
      expect(html.body).toContain('Systems not searched');
      expect(html.body).toContain('CRM decommissioned; its data was migrated to desk');
      expect(await auditTargets('request.skip-task')).toContain(
        `request:${id} task=${task(completed, 'crm-api').task} target=crm-api type=dsar was=failed`,
      );
    },
  );

  it.skipIf(missing)('marks a failed erasure done by hand with a required note', async () => {
    const id = await failing('delete');
    const url = await taskUrl(id, 'crm-api', 'mark-done');
    await refused(400, 'VALIDATION_FAILED', 'POST', url, { deleted: 1 });
    await refused(403, 'FORBIDDEN', 'POST', url, { note: 'x' }, service);
    // An erasure keeps no values: a file is for a DSAR.
    const file = {
      name: 'a.txt',
      contentType: 'text/plain',
      contentBase64: Buffer.from('hi').toString('base64'),
    };
    await refused(409, 'NOT_A_DSAR', 'POST', url, { note: 'x', file });
    const marked = await ok<RightsRequest>('POST', url, {
      note: 'Deleted by the CRM team by hand',
      deleted: 3,
    });
    expect(task(marked, 'crm-api')).toMatchObject({
      state: 'done',
      rowsChanged: 3,
      note: 'Deleted by the CRM team by hand',
      completedBy: 'dpo:dpo-dana',
    });
    await refused(409, 'TASK_STATE_CONFLICT', 'POST', url, { note: 'again' });
    // The ticket can be marked done by hand too (by a DPO), and the erasure completes.
    const completed = await ok<RightsRequest>('POST', await taskUrl(id, 'desk', 'mark-done'), {
      note: 'Desk confirmed by phone',
    });
    expect(completed.status).toBe('completed');
    expect(completed.pii.destroyedAt).toBeDefined();
    expect(
      (await auditTargets('request.task-done-by-hand')).filter((t) => t.startsWith(`request:${id} `)),
    ).toHaveLength(2);
  });

  it.skipIf(missing)('completes a failed request when its failed task is marked done', async () => {
    const id = await failing('dsar');
    await ok('POST', await taskUrl(id, 'desk', 'complete'), {}, service);
    await waitFor(async () => (await get(id)).status === 'failed');
    const completed = await ok<RightsRequest>('POST', await taskUrl(id, 'crm-api', 'mark-done'), {
      note: 'exported by the CRM team',
      records: [{ dataset: 'customers', pk: 'c-1', fields: { email: 'found by hand' } }],
    });
    expect(completed.status).toBe('completed');
    const dsar = await ok<{ sources: { datasource: string; records: { values: object }[] }[] }>(
      'GET',
      `/v1/requests/${id}/package`,
    );
    expect(dsar.sources).toContainEqual({
      datasource: 'crm-api/customers',
      records: [{ pk: 'c-1', values: { email: 'found by hand' } }],
    });
  });

  it.skipIf(missing)(
    'cancels with a reason: open tasks stop, and nothing more can happen to it',
    async () => {
      const id = await failing('delete');
      await refused(400, 'VALIDATION_FAILED', 'POST', `/v1/requests/${id}/cancel`, {});
      const canceled = await ok<RightsRequest>('POST', `/v1/requests/${id}/cancel`, {
        reason: 'withdrawn by the person',
      });
      expect(canceled.status).toBe('canceled');
      expect(canceled.statusReason).toBe('withdrawn by the person');
      expect((canceled.tasks ?? []).map((t) => `${t.target}:${t.state}`).sort()).toEqual([
        'crm-api:failed',
        'desk:canceled',
      ]);
      await refused(409, 'REQUEST_STATE_CONFLICT', 'POST', `/v1/requests/${id}/cancel`, { reason: 'again' });
      await refused(409, 'REQUEST_STATE_CONFLICT', 'POST', await taskUrl(id, 'crm-api', 'skip'), {
        reason: 'x',
      });
      await refused(409, 'REQUEST_STATE_CONFLICT', 'POST', await taskUrl(id, 'crm-api', 'mark-done'), {
        note: 'x',
      });
      await refused(409, 'REQUEST_STATE_CONFLICT', 'POST', `/v1/requests/${id}/extend`, { reason: 'x' });
      // The ticket no longer waits for the desk.
      const tickets = await ok<{ items: { requestId: string }[] }>('GET', '/v1/tickets', undefined, service);
      expect(tickets.items.map((t) => t.requestId)).not.toContain(id);
    },
  );

  it.skipIf(missing)('extends the deadline once, by two months under the GDPR, with a reason', async () => {
    const id = await failing('dsar');
    const before = await get(id);
    await refused(400, 'VALIDATION_FAILED', 'POST', `/v1/requests/${id}/extend`, { reason: '' });
    const extended = await ok<RightsRequest>('POST', `/v1/requests/${id}/extend`, {
      reason: 'Art. 12(3): complex request, many systems',
    });
    const due = new Date(before.dueAt);
    due.setUTCMonth(due.getUTCMonth() + 2);
    expect(Date.parse(extended.dueAt)).toBeGreaterThanOrEqual(due.getTime() - 3 * 86_400_000);
    expect(Date.parse(extended.dueAt)).toBeGreaterThan(Date.parse(before.dueAt) + 55 * 86_400_000);
    expect(extended.extension).toMatchObject({
      by: 'dpo:dpo-dana',
      reason: 'Art. 12(3): complex request, many systems',
    });
    await refused(409, 'NO_EXTENSION', 'POST', `/v1/requests/${id}/extend`, { reason: 'once more' });
    expect((await get(id)).dueAt).toBe(extended.dueAt);
    expect(await auditTargets('request.extend')).toContain(`request:${id} due=${extended.dueAt}`);
  });

  it.skipIf(missing)('files again after a failed or canceled request, never beside an open one', async () => {
    const person = `p${(serial += 1)}`;
    const first = await failing('dsar', person);
    // Still running (the ticket waits): the same person and type is a duplicate.
    await refused(409, 'DUPLICATE_REQUEST', 'POST', '/v1/requests', {
      type: 'dsar',
      identifiers: { email: `${person}@example.com` },
    });
    await ok('POST', await taskUrl(first, 'desk', 'complete'), {}, service);
    await waitFor(async () => (await get(first)).status === 'failed');
    const second = await ok<RightsRequest>('POST', '/v1/requests', {
      id: `${first}-again`,
      type: 'dsar',
      identifiers: { email: `${person}@example.com` },
    });
    expect(second.status).not.toBe('failed');
    await refused(409, 'DUPLICATE_REQUEST', 'POST', '/v1/requests', {
      type: 'dsar',
      identifiers: { email: `${person}@example.com` },
    });
    await ok('POST', `/v1/requests/${second.id}/cancel`, { reason: 'filed by mistake' });
    await ok('POST', '/v1/requests', { type: 'dsar', identifiers: { email: `${person}@example.com` } });
  });

  it.skipIf(missing)("carries a DSAR ticket's records and file into the package", async () => {
    const id = await failing('dsar');
    const url = await taskUrl(id, 'desk', 'complete');
    const bytes = Buffer.from('order,total\n17,12.50\n');
    const file = {
      name: 'desk-export.csv',
      contentType: 'text/csv',
      contentBase64: bytes.toString('base64'),
    };
    await refused(
      400,
      'INVALID_TICKET_FILE',
      'POST',
      url,
      { file: { ...file, contentBase64: 'not base64!' } },
      service,
    );
    await refused(
      400,
      'VALIDATION_FAILED',
      'POST',
      url,
      { file: { ...file, name: '../etc/passwd' } },
      service,
    );
    await refused(400, 'VALIDATION_FAILED', 'POST', url, { records: [{ pk: '1' }] }, service);
    const tooLarge = Buffer.alloc(5 * 1024 * 1024 + 1, 1).toString('base64');
    await refused(
      413,
      'TICKET_FILE_TOO_LARGE',
      'POST',
      url,
      { file: { ...file, contentBase64: tooLarge } },
      service,
    );
    const big = Array.from({ length: 600 }, (_, n) => ({ pk: `${n}`, fields: { text: 'x'.repeat(2000) } }));
    await refused(413, 'TICKET_RECORDS_TOO_LARGE', 'POST', url, { records: big }, service);
    expect(task(await get(id), 'desk').state).toBe('waiting');

    await ok(
      'POST',
      url,
      {
        note: 'two tickets in the desk',
        records: [
          { dataset: 'tickets', pk: 't-1', fields: { subject: 'Refund', opened: '2026-03-01' } },
          { dataset: 'tickets', pk: 't-2', fields: { subject: 'Address change', priority: 2 } },
        ],
        file,
      },
      service,
    );
    await ok('POST', await taskUrl(id, 'crm-api', 'skip'), { reason: 'CRM answered by letter' });
    expect((await get(id)).status).toBe('completed');
    const dsar = await ok<{
      sources: { datasource: string; records: { pk: string; values: object }[] }[];
      files: {
        source: string;
        name: string;
        contentType: string;
        size: number;
        sha256: string;
        contentBase64: string;
      }[];
    }>('GET', `/v1/requests/${id}/package`);
    expect(dsar.sources).toEqual([
      {
        datasource: 'desk/tickets',
        records: [
          { pk: 't-1', values: { subject: 'Refund', opened: '2026-03-01' } },
          { pk: 't-2', values: { subject: 'Address change', priority: 2 } },
        ],
      },
    ]);
    expect(dsar.files).toEqual([
      {
        source: 'desk',
        name: 'desk-export.csv',
        contentType: 'text/csv',
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        contentBase64: bytes.toString('base64'),
      },
    ]);
    const html = (await call('GET', `/v1/requests/${id}/package?format=html`)).body;
    expect(html).toContain('Address change');
    expect(html).toContain(
      `download="desk-export.csv" href="data:text/csv;base64,${bytes.toString('base64')}"`,
    );
    // The report lists the file as one of the desk's findings, by its digest: neither its
    // content nor its name (which can name the person) outlives the findings' key there.
    const digest = createHash('sha256').update(bytes).digest('hex');
    const report = await ok<{ items: { datasource: string; pk: string }[] }>(
      'GET',
      `/v1/requests/${id}/report`,
    );
    expect(report.items.map((row) => `${row.datasource} ${row.pk}`).sort()).toEqual([
      `desk/file sha256:${digest.slice(0, 16)}`,
      'desk/tickets t-1',
      'desk/tickets t-2',
    ]);
    expect(
      (await auditTargets('request.ticket-done')).find((target) => target.startsWith(`request:${id} `)),
    ).toBe(`request:${id} task=${task(await get(id), 'desk').task} records=2 file=${digest}`);
    // Delivered: the findings, the file with them, are destroyed.
    await ok('POST', `/v1/requests/${id}/delivered`);
    await refused(410, 'PII_DESTROYED', 'GET', `/v1/requests/${id}/package`);
  });

  it.skipIf(missing)(
    "keeps Lethe's records of a person when an erasure completes with a system skipped",
    async () => {
      // The skipped system still holds the data: the feed must go on naming it, so the subject's
      // expiries (and stream keys) are not forgotten as they are when every system erased.
      await ok(
        'PUT',
        '/v1/policies/crm-contact',
        {
          purpose: 'essential.account',
          retention: 'P1Y',
          legalBasis: 'contract',
        },
        admin,
      );
      await ok(
        'POST',
        '/v1/events',
        {
          events: [
            {
              subject: 'kept-person',
              system: 'crm',
              policy: 'crm-contact',
              fields: ['crm-data.email'],
              at: new Date().toISOString(),
            },
          ],
        },
        admin,
      );
      const id = 'delete-kept-person';
      await ok('POST', '/v1/requests', {
        id,
        type: 'delete',
        identifiers: { email: 'p12@example.com', subject: 'kept-person' },
      });
      await waitFor(async () => task(await get(id), 'crm-api').state === 'failed', 20_000);
      await ok('POST', await taskUrl(id, 'crm-api', 'skip'), { reason: 'crm is read-only this month' });
      await ok(
        'POST',
        await taskUrl(id, 'desk', 'complete'),
        { note: 'erased at the desk', deleted: 0 },
        service,
      );
      await waitFor(async () => (await get(id)).status === 'completed', 20_000);
      const subject = await call('GET', '/v1/subjects/kept-person', undefined, admin);
      expect(subject.statusCode, subject.body).toBe(200);
      expect(subject.json<{ fields: { field: string }[] }>().fields.map((f) => f.field)).toContain(
        'crm-data.email',
      );
    },
  );
});
