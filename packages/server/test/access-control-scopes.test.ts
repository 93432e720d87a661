import { beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED, lethe, openMatrixLethe, send, SUBJECT } from './support/access-matrix.js';
import { usage } from './support/fixtures.js';

/**
 * What narrows a token below its role: a service token's own system, a token's categories, an
 * auditor's missing subject-ids grant; and the services' own permission checks under the HTTP layer.
 */

openMatrixLethe();
describe('a service token', () => {
  it('publishes, reads and confirms erasures for its own system only', async () => {
    const published = await send('service', 'POST', '/v1/events', {
      events: [usage('svc-subject', 'order-delivery', ['orders.address'], '2024-02-01T00:00:00Z', 'orders')],
    });
    expect(published.statusCode).toBe(200);
    expect(published.json()).toMatchObject({
      accepted: 0,
      rejected: [{ index: 0, code: 'SYSTEM_NOT_PERMITTED' }],
    });
    const mine = await send('service', 'POST', '/v1/events', {
      events: [usage('svc-subject', 'user-account-access', ['accounts.email'], '2024-02-01T00:00:00Z')],
    });
    expect(mine.json().accepted).toBe(1);
    const other = await send('admin', 'POST', '/v1/events', {
      events: [usage('svc-subject', 'order-delivery', ['orders.address'], '2024-02-01T00:00:00Z', 'orders')],
    });
    expect(other.json().accepted).toBe(1);

    for (const query of ['system=orders', 'dataset=orders', 'field=orders.address']) {
      const response = await send('service', 'GET', `/v1/expiries?from=2020-01-01&to=2030-12-31&${query}`);
      expect(response.statusCode, query).toBe(403);
      expect(response.json().error.code).toBe('SYSTEM_NOT_PERMITTED');
    }
    const own = await send('service', 'GET', '/v1/expiries?from=2020-01-01&to=2030-12-31');
    const fields = (own.json().items as { field: string }[]).map((item) => item.field);
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.every((field) => field.startsWith('accounts.'))).toBe(true);

    const erasure = await send('service', 'POST', '/v1/subjects/svc-subject/erasures', { system: 'orders' });
    expect(erasure.statusCode).toBe(403);
    expect(erasure.json().error.code).toBe('SYSTEM_NOT_PERMITTED');
  });
});

describe('a category-limited token', () => {
  const HIDDEN = ['accounts.name', 'orders.address'];
  let limited: string;

  beforeAll(async () => {
    limited = (
      await lethe.tokens.mint({
        subject: 'matrix-limited',
        role: 'admin',
        categories: ['user.contact.email'],
        ttlSeconds: 600,
      })
    ).token;
    const at = (day: string) => `${day}T00:00:00Z`;
    await send('admin', 'POST', '/v1/events', {
      events: [
        usage('cat-subject', 'user-account-access', ['accounts.email', 'accounts.name'], at('2024-03-01')),
        usage('cat-subject', 'order-delivery', ['orders.address'], at('2024-03-02'), 'orders'),
      ],
    });
    // A confirmed erasure then a new use of every field: re-appearances of visible and hidden fields.
    await send('admin', 'POST', '/v1/subjects/cat-subject/erasures', {
      system: 'accounts',
      at: at('2024-03-03'),
    });
    await send('admin', 'POST', '/v1/subjects/cat-subject/erasures', {
      system: 'orders',
      at: at('2024-03-03'),
    });
    await send('admin', 'POST', '/v1/events', {
      events: [
        usage('cat-subject', 'user-account-access', ['accounts.email', 'accounts.name'], at('2024-03-04')),
        usage('cat-subject', 'order-delivery', ['orders.address'], at('2024-03-04'), 'orders'),
      ],
    });
  });

  const asLimited = (method: string, url: string, payload?: unknown, accept?: string) =>
    lethe.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${limited}`, ...(accept ? { accept } : {}) },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  it('sees no other field on any route that returns data', async () => {
    // Someone else's feed read names a hidden field in the audit log: the limited reader must not see it.
    await send('admin', 'GET', '/v1/expiries?from=2020-01-01&to=2030-12-31&field=orders.address');
    const reads = lethe.app.routeTable.filter(
      (route) => route.method === 'GET' && route.url.startsWith('/v1'),
    );
    expect(reads.length).toBeGreaterThan(8);
    for (const route of reads) {
      const expectation = EXPECTED[`GET ${route.url}`];
      await expectation?.prepare?.();
      let url = typeof expectation?.url === 'function' ? expectation.url() : (expectation?.url ?? route.url);
      if (route.url === '/v1/subjects/:subject') url = '/v1/subjects/cat-subject';
      const response = await asLimited('GET', url);
      if (expectation?.unlimitedOnly) {
        expect(response.statusCode, route.url).toBe(403);
        expect(response.json().error.code).toBe('CATEGORY_NOT_PERMITTED');
        continue;
      }
      expect(response.statusCode, `${route.url}: ${response.body.slice(0, 200)}`).toBe(200);
      for (const hidden of HIDDEN)
        expect(response.body, `${route.url} shows ${hidden}`).not.toContain(hidden);
      const datasetFields = (response.body.match(/"fields":\[[^\]]*\]/g) ?? []).join();
      expect(datasetFields, route.url).not.toMatch(/"name":"(name|address)"/);
    }
    const streamed = await asLimited(
      'GET',
      '/v1/expiries?from=2020-01-01&to=2030-12-31',
      undefined,
      'application/x-ndjson',
    );
    expect(streamed.body).toContain('accounts.email');
    for (const hidden of HIDDEN) expect(streamed.body).not.toContain(hidden);
  });

  it('gets the subject expiry over the fields it may see', async () => {
    const full = (await send('admin', 'GET', '/v1/subjects/cat-subject')).json();
    const limitedView = (await asLimited('GET', '/v1/subjects/cat-subject')).json();
    expect(limitedView.fields.map((f: { field: string }) => f.field)).toEqual(['accounts.email']);
    expect(limitedView.decidedBy.field).toBe('accounts.email');
    expect(limitedView.expiresAt).toBe(
      full.fields.find((f: { field: string }) => f.field === 'accounts.email').expiresAt,
    );
    const reappeared = (await asLimited('GET', '/v1/reappearances')).json();
    expect(reappeared.items.map((item: { field: string }) => item.field)).toEqual(['accounts.email']);
  });

  it('is refused what would need another category', async () => {
    const cases: [string, string, unknown?][] = [
      ['GET', '/v1/expiries?from=2020-01-01&to=2030-12-31&field=accounts.name'],
      ['GET', '/v1/expiries?from=2020-01-01&to=2030-12-31&level=subject'],
      ['POST', '/v1/subjects/cat-subject/erasures', { system: 'accounts', fields: ['accounts.name'] }],
    ];
    for (const [method, url, payload] of cases) {
      const response = await asLimited(method, url, payload);
      expect(response.statusCode, url).toBe(403);
      expect(response.json().error.code).toBe('CATEGORY_NOT_PERMITTED');
    }
    const erased = await asLimited('POST', '/v1/subjects/cat-subject/erasures', { system: 'accounts' });
    expect(erased.json().fields).toEqual(['accounts.email']);
  });

  it('is admitted by a parent category', async () => {
    const parent = (
      await lethe.tokens.mint({
        subject: 'parent',
        role: 'dpo',
        categories: ['user.contact'],
        ttlSeconds: 600,
      })
    ).token;
    const response = await lethe.app.inject({
      method: 'GET',
      url: '/v1/subjects/cat-subject',
      headers: { authorization: `Bearer ${parent}` },
    });
    expect(
      response
        .json()
        .fields.map((f: { field: string }) => f.field)
        .sort(),
    ).toEqual(['accounts.email', 'orders.address']);
  });
});

describe('an auditor without the subject-ids grant', () => {
  it('sees pseudonyms in the feed, the audit log and cursors, stable across pages', async () => {
    const page = await send('auditor', 'GET', '/v1/expiries?from=2020-01-01&to=2030-12-31&limit=1');
    const { items, next } = page.json<{ items: { subject: string }[]; next: string }>();
    expect(items[0]?.subject).toMatch(/^~[0-9a-f]{16}$/);
    expect(Buffer.from(next, 'base64url').toString('latin1')).not.toMatch(/subject/);
    const again = await send('auditor', 'GET', '/v1/expiries?from=2020-01-01&to=2030-12-31&limit=1');
    expect(again.json().items[0].subject).toBe(items[0]?.subject);
    const withIds = await send('auditorWithIds', 'GET', '/v1/expiries?from=2020-01-01&to=2030-12-31&limit=1');
    expect(withIds.json().items[0].subject).not.toMatch(/^~/);

    const log = (await send('auditor', 'GET', '/v1/audit?limit=1000')).json<{
      items: { target: string }[];
    }>();
    const subjectTargets = log.items.filter((entry) => entry.target.startsWith('subject:'));
    expect(subjectTargets.length).toBeGreaterThan(0);
    for (const entry of subjectTargets) expect(entry.target).toMatch(/^subject:~[0-9a-f]{16}$/);
  });
});

describe('the DPO', () => {
  it('reads the audit log with real subject ids, as in its subject view, and verifies the chain', async () => {
    const subject = 'dpo-audited-subject';
    await send('admin', 'POST', '/v1/events', {
      events: [usage(subject, 'user-account-access', ['accounts.email'], '2024-02-01T00:00:00Z')],
    });
    // Someone reads the subject: the log names it, and the DPO must be able to tell whom.
    expect((await send('admin', 'GET', `/v1/subjects/${subject}`)).statusCode).toBe(200);
    const log = (await send('dpo', 'GET', '/v1/audit?limit=1000')).json<{ items: { target: string }[] }>();
    const targets = log.items.map((entry) => entry.target);
    expect(targets).toContain(`subject:${subject}`);
    expect(targets.filter((target) => target.startsWith('subject:~'))).toEqual([]);
    const verified = await send('dpo', 'GET', '/v1/audit/verify');
    expect(verified.json()).toMatchObject({ ok: true });
    // Reading the log is itself a read on record, by the DPO.
    const after = (await send('admin', 'GET', '/v1/audit?limit=1000')).json<{
      items: { actor: string; action: string }[];
    }>();
    expect(
      after.items.some((entry) => entry.action === 'audit.read' && entry.actor.includes('matrix-dpo')),
    ).toBe(true);
    // Signing checkpoints stays an operator's task.
    const checkpoint = await send('dpo', 'POST', '/v1/audit/checkpoints');
    expect(checkpoint.statusCode).toBe(403);
  });
});

describe('the services themselves', () => {
  it('refuse a principal without the permission, whatever the HTTP layer did', async () => {
    const as = (role: 'dpo' | 'auditor' | 'service') =>
      role === 'service' ? { id: 'svc', role, system: 'accounts' } : { id: role, role };
    const { services } = lethe;
    const policy = { purpose: 'analytics.product', retention: 'P1D', legalBasis: 'contract' } as const;
    const attempts: [string, () => Promise<unknown>][] = [
      ['policies.put by auditor', () => services.policies.put(as('auditor'), 'x', policy)],
      [
        'policies.retire by service',
        () => services.policies.retire(as('service'), 'order-delivery', 'matrix'),
      ],
      ['systems.put by auditor', () => services.systems.put(as('auditor'), 'x', { team: 't' })],
      ['telemetry.ingest by dpo', () => services.telemetry.ingest(as('dpo'), [])],
      ['retention.subject by service', () => services.retention.subject(as('service'), SUBJECT)],
      [
        'retention.recordErasure by auditor',
        () => services.retention.recordErasure(as('auditor'), SUBJECT, { system: 'accounts' }),
      ],
      ['audit.list by service', () => services.audit.list(as('service'))],
      ['audit.checkpoint by dpo', () => services.audit.checkpoint(as('dpo'))],
      ['audit.checkpoint by auditor', () => services.audit.checkpoint(as('auditor'))],
      ['keys.rotate by dpo', () => services.keys.rotate(as('dpo'))],
    ];
    for (const [label, attempt] of attempts) {
      await expect(attempt(), label).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
  });
});
