import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';
import { waitFor } from './support/wait-for.js';

const available = await availableBackends();
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Expire now (docs/retention.md "Expire now"), through HTTP on every backend: the decision makes
 * fields due at once, and neither a later use (the fold) nor a recompute (consent change, policy
 * change) moves them later again. Fixtures: accounts.email (user.contact.email) and accounts.name
 * (user.name) in accounts, orders.address in orders; user-account-access keeps P2Y.
 */
describe.each(ALL_BACKENDS)('expire now: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  const tokens = { admin: '', dpo: '', auditor: '', service: '', limitedDpo: '' };
  const recent = Date.now() - 30 * DAY;

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    lethe = await createLethe({ ...location, rateLimit: false });
    dispose = location.dispose;
    const mint = async (request: Parameters<Lethe['tokens']['mint']>[0]) =>
      (await lethe.tokens.mint(request)).token;
    tokens.admin = await mint({ subject: 'expire-admin', role: 'admin', ttlSeconds: 600 });
    tokens.dpo = await mint({ subject: 'dpo-anna', role: 'dpo', ttlSeconds: 600 });
    tokens.auditor = await mint({
      subject: 'aud',
      role: 'auditor',
      grants: ['subject-ids'],
      ttlSeconds: 600,
    });
    tokens.service = await mint({ subject: 'svc', role: 'service', system: 'accounts', ttlSeconds: 600 });
    tokens.limitedDpo = await mint({
      subject: 'dpo-2',
      role: 'dpo',
      categories: ['user.name'],
      ttlSeconds: 600,
    });
    for (const [name, body] of Object.entries(POLICIES)) await call('PUT', `/v1/policies/${name}`, body);
    for (const [name, body] of Object.entries(SYSTEMS)) await call('PUT', `/v1/systems/${name}`, body);
    const fields = ['accounts.email', 'accounts.name'];
    const events = ['x-1', 'x-2', 'x-3', 'x-4'].map((subject) =>
      usage(subject, 'user-account-access', fields, iso(recent)),
    );
    expect((await call('POST', '/v1/events', { events })).statusCode).toBe(200);
  });
  afterAll(async () => {
    if (missing) return;
    await lethe.close();
    await dispose();
  });

  function call(method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown, as = 'admin') {
    return lethe.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[as as keyof typeof tokens]}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  const expire = (subject: string, body: unknown, as = 'dpo') =>
    call('POST', `/v1/subjects/${subject}/expire`, body, as);
  type Item = { subject: string; field: string; status: string; expiresAt: string; hold?: string };
  const feed = async (query = 'from=2020-01-01&to=2030-12-31') => {
    const response = await call('GET', `/v1/expiries?${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return (response.json().items as Item[]).map((item) => `${item.subject} ${item.field} ${item.status}`);
  };
  const due = async (query = 'system=accounts') => {
    const response = await call('GET', `/v1/expiries/due?${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return (response.json().items as Item[]).map((item) => `${item.subject} ${item.field}`);
  };
  type Field = { field: string; expiresAt: string; lastUseAt: string; expireNow?: object };
  const subject = async (id: string) => {
    const response = await call('GET', `/v1/subjects/${id}`);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<{ expiresAt: string; fields: Field[] }>();
    return { ...body, field: (name: string) => body.fields.find((field) => field.field === name) as Field };
  };

  it.skipIf(missing)(
    'makes the named fields due now, in the feed and the due list, and audits it',
    async () => {
      expect(await due()).toEqual([]);
      const before = Date.now();
      const response = await expire('x-1', { reason: 'Customer complaint #881', fields: ['accounts.email'] });
      expect(response.statusCode, response.body).toBe(200);
      const result = response.json<{ fields: { field: string; expiresAt: string }[]; expiresAt: string }>();
      expect(result.fields.map((field) => field.field)).toEqual(['accounts.email']);
      expect(Date.parse(result.fields[0]!.expiresAt)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(result.fields[0]!.expiresAt)).toBeLessThanOrEqual(Date.now());

      expect(await feed()).toContain('x-1 accounts.email due');
      expect(await feed()).toContain('x-1 accounts.name upcoming');
      expect(await due()).toEqual(['x-1 accounts.email']);
      const view = await subject('x-1');
      expect(view.field('accounts.email').expireNow).toMatchObject({
        reason: 'Customer complaint #881',
        by: 'dpo-anna',
        at: result.fields[0]!.expiresAt,
      });
      expect(view.field('accounts.name').expireNow).toBeUndefined();
      // The subject is still kept by the field not expired.
      expect(view.expiresAt).toBe(view.field('accounts.name').expiresAt);

      const log = (await call('GET', '/v1/audit?limit=1000')).json<{
        items: { action: string; target: string; actor: string }[];
      }>();
      expect(log.items.filter((entry) => entry.action === 'subject.expire-now')).toEqual([
        expect.objectContaining({ target: 'subject:x-1', actor: expect.stringContaining('dpo-anna') }),
      ]);
    },
  );

  it.skipIf(missing)(
    'keeps the decision when a later use arrives (the fold moves nothing later)',
    async () => {
      const decided = (await subject('x-1')).field('accounts.email').expiresAt;
      const later = usage('x-1', 'user-account-access', ['accounts.email'], iso(Date.now() - 1_000));
      expect((await call('POST', '/v1/events', { events: [later] })).statusCode).toBe(200);
      const view = await subject('x-1');
      expect(view.field('accounts.email')).toMatchObject({ expiresAt: decided, lastUseAt: later.at });
      // The later use of the decided field does not keep the subject longer either.
      expect(view.expiresAt).toBe(view.field('accounts.name').expiresAt);
      expect(await due()).toEqual(['x-1 accounts.email']);
    },
  );

  it.skipIf(missing)('without fields expires every field and the subject itself', async () => {
    const response = await expire('x-2', { reason: 'Account closed by support' }, 'admin');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().fields.map((field: { field: string }) => field.field)).toEqual([
      'accounts.email',
      'accounts.name',
    ]);
    const view = await subject('x-2');
    expect(Date.parse(view.expiresAt)).toBeLessThanOrEqual(Date.now());
    expect(await feed('from=2020-01-01&to=2030-12-31&level=subject')).toContain('x-2 accounts.email due');
    expect(await due()).toEqual(expect.arrayContaining(['x-2 accounts.email', 'x-2 accounts.name']));
  });

  it.skipIf(missing)('a legal hold wins: the expired field is held, not due, until released', async () => {
    expect(
      (await call('PUT', '/v1/holds/inquiry', { reason: 'Regulator', subjects: ['x-3'] })).statusCode,
    ).toBe(201);
    expect(
      (await expire('x-3', { reason: 'Asked by the person', fields: ['accounts.name'] })).statusCode,
    ).toBe(200);
    expect(await feed()).toContain('x-3 accounts.name held');
    expect(await due()).not.toContain('x-3 accounts.name');
    expect((await call('DELETE', '/v1/holds/inquiry')).statusCode).toBe(204);
    expect(await due()).toContain('x-3 accounts.name');
  });

  it.skipIf(missing)(
    'refuses other roles, unknown subjects and fields, a missing reason, hidden fields',
    async () => {
      for (const as of ['auditor', 'service']) {
        const refused = await expire('x-4', { reason: 'no' }, as);
        expect(refused.statusCode).toBe(403);
        expect(refused.json().error.code).toBe('FORBIDDEN');
      }
      const unknown = await expire('nobody', { reason: 'gone' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().error.code).toBe('SUBJECT_NOT_FOUND');
      const notKept = await expire('x-4', { reason: 'r', fields: ['accounts.name', 'orders.address'] });
      expect(notKept.statusCode).toBe(400);
      expect(notKept.json().error).toMatchObject({ code: 'FIELD_NOT_KEPT' });
      expect(notKept.json().error.message).toContain('orders.address');
      for (const body of [{}, { reason: '' }, { reason: 'x'.repeat(2_001) }, { reason: 'r', fields: [] }]) {
        const invalid = await expire('x-4', body);
        expect(invalid.statusCode, JSON.stringify(body)).toBe(400);
        expect(invalid.json().error.code).toBe('VALIDATION_FAILED');
      }
      const hidden = await expire('x-4', { reason: 'r', fields: ['accounts.email'] }, 'limitedDpo');
      expect(hidden.statusCode).toBe(403);
      expect(hidden.json().error.code).toBe('CATEGORY_NOT_PERMITTED');
      // Nothing was decided by the refusals.
      expect((await due()).filter((line) => line.startsWith('x-4'))).toEqual([]);
      // Without fields, a category-limited token expires the fields it may see, and only those.
      const limited = await expire('x-4', { reason: 'r' }, 'limitedDpo');
      expect(limited.statusCode, limited.body).toBe(200);
      expect((await due()).filter((line) => line.startsWith('x-4'))).toEqual(['x-4 accounts.name']);
    },
  );

  it.skipIf(missing)('a consent change or a policy recompute does not undo the decision', async () => {
    const decided = (await subject('x-1')).field('accounts.email').expiresAt;
    const consent = await call('PUT', '/v1/subjects/x-1/consent', { purposes: { 'marketing.email': true } });
    expect(consent.statusCode, consent.body).toBeLessThan(300);
    expect((await subject('x-1')).field('accounts.email').expiresAt).toBe(decided);

    const nameBefore = (await subject('x-1')).field('accounts.name').expiresAt;
    const put = await call('PUT', '/v1/policies/user-account-access', {
      ...POLICIES['user-account-access'],
      retention: 'P3Y',
      reason: 'longer accounts',
    });
    expect(put.statusCode, put.body).toBe(200);
    const job = put.json<{ recompute: { job: string } }>().recompute.job;
    await waitFor(
      async () => (await call('GET', `/v1/jobs/${job}`)).json<{ state: string }>().state === 'done',
      30_000,
    );
    const view = await subject('x-1');
    // The recompute ran (the other field moved to three years) but left the decision standing.
    expect(Date.parse(view.field('accounts.name').expiresAt)).toBeGreaterThan(Date.parse(nameBefore));
    expect(view.field('accounts.email').expiresAt).toBe(decided);
    expect(view.expiresAt).toBe(view.field('accounts.name').expiresAt);
    expect(await due()).toContain('x-1 accounts.email');
  });
});
