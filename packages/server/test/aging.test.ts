import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';
import { waitFor } from './support/wait-for.js';

const available = await availableBackends();
const WAITING = '9999-12-31T00:00:00.000Z';

/**
 * Aging strategies (docs/retention.md "Aging"), through HTTP on every backend: each strategy's
 * expiry to the millisecond (calendar arithmetic: P1M from Jan 31 is Feb 29 in 2024), the
 * fold's exact refresh (a late older use moves a first-use expiry earlier), subject events
 * before and after uses, a fixed day, previews and recomputes of a change of `since`, and that
 * expire-now still wins. Fields: accounts.email, accounts.name (accounts), orders.address (orders).
 */
describe.each(ALL_BACKENDS)('aging strategies: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  const tokens = { admin: '', dpo: '', service: '', auditor: '' };

  const AGED = {
    'account-first': {
      purpose: 'essential.account',
      retention: 'P1M',
      legalBasis: 'contract',
      since: 'first-use',
    },
    'account-closure': {
      purpose: 'essential.account',
      retention: 'P1M',
      legalBasis: 'legal_obligation',
      since: 'event:account-closed',
    },
    'contract-term': {
      purpose: 'essential.account',
      retention: 'P1Y',
      legalBasis: 'contract',
      since: 'until:2027-03-01',
    },
  };

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    lethe = await createLethe({ ...location, rateLimit: false, recomputeWaitMs: 5_000 });
    dispose = location.dispose;
    const mint = async (request: Parameters<Lethe['tokens']['mint']>[0]) =>
      (await lethe.tokens.mint(request)).token;
    tokens.admin = await mint({ subject: 'aging-admin', role: 'admin', ttlSeconds: 600 });
    tokens.dpo = await mint({ subject: 'aging-dpo', role: 'dpo', ttlSeconds: 600 });
    tokens.service = await mint({ subject: 'svc', role: 'service', system: 'orders', ttlSeconds: 600 });
    tokens.auditor = await mint({ subject: 'aud', role: 'auditor', ttlSeconds: 600 });
    for (const [name, body] of Object.entries({ ...POLICIES, ...AGED })) {
      const put = await call('PUT', `/v1/policies/${name}`, body);
      expect(put.statusCode, put.body).toBe(201);
    }
    for (const [name, body] of Object.entries(SYSTEMS)) await call('PUT', `/v1/systems/${name}`, body);
  });
  afterAll(async () => {
    if (missing) return;
    await lethe.close();
    await dispose();
  });

  function call(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
    as: keyof typeof tokens = 'admin',
    contentType?: string,
  ) {
    return lethe.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${tokens[as]}`,
        ...(contentType ? { 'content-type': contentType } : {}),
      },
      ...(payload === undefined
        ? {}
        : typeof payload === 'string'
          ? { payload }
          : { payload: payload as object }),
    });
  }
  const ingest = async (...events: ReturnType<typeof usage>[]) => {
    const response = await call('POST', '/v1/events', { events });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().accepted).toBe(events.length);
  };
  type Use = { policy: string; keepsUntil: string; waitingFor?: string };
  type Field = { field: string; expiresAt: string; policy: string; waitingFor?: string; uses: Use[] };
  const subject = async (id: string) => {
    const response = await call('GET', `/v1/subjects/${id}`);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<{ expiresAt: string; fields: Field[]; events?: Record<string, string> }>();
    return { ...body, field: (name: string) => body.fields.find((field) => field.field === name) as Field };
  };
  const due = async () => {
    const response = await call('GET', '/v1/expiries/due?system=accounts&limit=10000');
    expect(response.statusCode, response.body).toBe(200);
    return (response.json().items as { subject: string; field: string }[]).map(
      (item) => `${item.subject} ${item.field}`,
    );
  };
  const sendEvents = (id: string, body: unknown, as: keyof typeof tokens = 'admin', type?: string) =>
    call('POST', `/v1/subjects/${id}/events`, body, as, type);

  it.skipIf(missing)('shows since on policies and versions, last-use by default', async () => {
    const policy = (await call('GET', '/v1/policies/account-first')).json();
    expect(policy).toMatchObject({ since: 'first-use', retention: 'P1M' });
    expect((await call('GET', '/v1/policies/order-delivery')).json().since).toBe('last-use');
    const versions = (await call('GET', '/v1/policies/contract-term/versions')).json();
    expect(versions.items[0]).toMatchObject({ since: 'until:2027-03-01' });
  });

  it.skipIf(missing)('refuses a since that is not a strategy, naming the allowed forms', async () => {
    const base = { purpose: 'essential.account', retention: 'P1M', legalBasis: 'contract' };
    const bogus = await call('PUT', '/v1/policies/bad-aging', { ...base, since: 'next-tuesday' });
    expect(bogus.statusCode).toBe(400);
    expect(bogus.json().error.code).toBe('VALIDATION_FAILED');
    expect(bogus.json().error.message).toContain('last-use|first-use|event:');
    const noDay = await call('PUT', '/v1/policies/bad-aging', { ...base, since: 'until:2027-02-30' });
    expect(noDay.statusCode).toBe(400);
    expect(noDay.json().error).toMatchObject({ code: 'INVALID_AGING' });
    expect(noDay.json().error.message).toContain('until:<YYYY-MM-DD>');
    expect((await call('GET', '/v1/policies/bad-aging')).statusCode).toBe(404);
  });

  it.skipIf(missing)(
    'first-use counts from the first use, last-use from the last, calendar-exact',
    async () => {
      // Uses on Jan 31 and Mar 15 2024, the later one folded first.
      await ingest(
        usage('s-first', 'account-first', ['accounts.name'], '2024-03-15T10:00:00Z'),
        usage('s-first', 'user-account-access', ['accounts.email'], '2024-03-15T10:00:00Z'),
      );
      expect((await subject('s-first')).field('accounts.name').expiresAt).toBe('2024-04-15T10:00:00.000Z');
      await ingest(
        usage('s-first', 'account-first', ['accounts.name'], '2024-01-31T10:00:00Z'),
        usage('s-first', 'user-account-access', ['accounts.email'], '2024-01-31T10:00:00Z'),
        usage('s-first', 'account-first', ['accounts.name'], '2024-02-10T10:00:00Z'),
      );
      const view = await subject('s-first');
      // P1M from Jan 31 clamps to Feb 29 (2024 is a leap year); the late older use moved it earlier.
      expect(view.field('accounts.name')).toMatchObject({
        expiresAt: '2024-02-29T10:00:00.000Z',
        policy: 'account-first',
      });
      expect(view.field('accounts.email').expiresAt).toBe('2026-03-15T10:00:00.000Z');
      expect(view.expiresAt).toBe('2026-03-15T10:00:00.000Z');
      expect(await due()).toContain('s-first accounts.name');
    },
  );

  it.skipIf(missing)(
    'keeps a field waiting for its event, then counts from the event when it arrives',
    async () => {
      await ingest(usage('s-close', 'account-closure', ['accounts.email'], '2024-01-10T08:00:00Z'));
      let view = await subject('s-close');
      expect(view.field('accounts.email')).toMatchObject({
        expiresAt: WAITING,
        waitingFor: 'account-closed',
      });
      expect(view.field('accounts.email').uses[0]).toMatchObject({
        keepsUntil: WAITING,
        waitingFor: 'account-closed',
      });
      expect(view.expiresAt).toBe(WAITING);
      expect(await due()).not.toContain('s-close accounts.email');

      const sent = await sendEvents('s-close', {
        id: 'close-1',
        name: 'account-closed',
        at: '2024-01-31T00:00:00Z',
      });
      expect(sent.statusCode, sent.body).toBe(200);
      expect(sent.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [], fieldsChanged: 1 });
      view = await subject('s-close');
      expect(view.field('accounts.email')).toMatchObject({ expiresAt: '2024-02-29T00:00:00.000Z' });
      expect(view.field('accounts.email').waitingFor).toBeUndefined();
      expect(view.events).toEqual({ 'account-closed': '2024-01-31T00:00:00.000Z' });
      expect(await due()).toContain('s-close accounts.email');

      // A retry is a duplicate; a later event of the same name moves nothing (the first one counts).
      const retry = await sendEvents('s-close', {
        id: 'close-1',
        name: 'account-closed',
        at: '2024-01-31T00:00:00Z',
      });
      expect(retry.json()).toMatchObject({ accepted: 0, duplicates: 1 });
      const later = await sendEvents('s-close', { name: 'account-closed', at: '2024-06-01T00:00:00Z' });
      expect(later.json()).toMatchObject({ accepted: 1, fieldsChanged: 0 });
      // Uses after the event do not move it either: the event anchors the retention.
      await ingest(usage('s-close', 'account-closure', ['accounts.email'], '2024-07-01T00:00:00Z'));
      expect((await subject('s-close')).field('accounts.email').expiresAt).toBe('2024-02-29T00:00:00.000Z');

      const log = (await call('GET', '/v1/audit?limit=1000')).json<{
        items: { action: string; target: string }[];
      }>();
      expect(log.items.filter((entry) => entry.action === 'subject.events')).toHaveLength(2);
    },
  );

  it.skipIf(missing)(
    'takes back an event recorded by mistake: the field counts from the next occurrence, then waits again',
    async () => {
      await ingest(usage('s-undo', 'account-closure', ['accounts.email'], '2024-01-10T08:00:00Z'));
      await sendEvents('s-undo', {
        events: [
          { name: 'account-closed', at: '2024-01-31T00:00:00Z' },
          { name: 'account-closed', at: '2024-06-01T00:00:00Z' },
        ],
      });
      expect((await subject('s-undo')).field('accounts.email').expiresAt).toBe('2024-02-29T00:00:00.000Z');

      // The wrong day taken back: the later occurrence counts now.
      const one = await call('POST', '/v1/subjects/s-undo/events/delete', {
        name: 'account-closed',
        at: '2024-01-31T00:00:00Z',
        reason: 'closed by mistake, reopened the same day',
      });
      expect(one.statusCode, one.body).toBe(200);
      expect(one.json()).toEqual({ deleted: 1, fieldsChanged: 1 });
      expect((await subject('s-undo')).field('accounts.email').expiresAt).toBe('2024-07-01T00:00:00.000Z');

      // The whole event taken back (a DPO may): the field waits again and is not due.
      const all = await call(
        'POST',
        '/v1/subjects/s-undo/events/delete',
        { name: 'account-closed', reason: 'wrong subject' },
        'dpo',
      );
      expect(all.json()).toEqual({ deleted: 1, fieldsChanged: 1 });
      const view = await subject('s-undo');
      expect(view.field('accounts.email')).toMatchObject({
        expiresAt: WAITING,
        waitingFor: 'account-closed',
      });
      expect(view.events ?? {}).toEqual({});
      expect(await due()).not.toContain('s-undo accounts.email');

      // Nothing left to take back, a bad time, no reason, a service or an auditor: refused.
      const none = await call('POST', '/v1/subjects/s-undo/events/delete', {
        name: 'account-closed',
        reason: 'x',
      });
      expect(none.statusCode).toBe(404);
      expect(none.json().error.code).toBe('SUBJECT_EVENT_NOT_FOUND');
      const badTime = await call('POST', '/v1/subjects/s-undo/events/delete', {
        name: 'account-closed',
        at: 'yesterday',
        reason: 'x',
      });
      expect(badTime.statusCode).toBe(400);
      const noReason = await call('POST', '/v1/subjects/s-undo/events/delete', { name: 'account-closed' });
      expect(noReason.statusCode).toBe(400);
      for (const as of ['service', 'auditor'] as const) {
        const refused = await call(
          'POST',
          '/v1/subjects/s-undo/events/delete',
          { name: 'x', reason: 'x' },
          as,
        );
        expect(refused.statusCode).toBe(403);
      }

      const log = (await call('GET', '/v1/audit?limit=1000')).json<{
        items: { action: string; target: string; actor: string }[];
      }>();
      const deletions = log.items.filter((entry) => entry.action === 'subject.events.delete');
      expect(deletions.map((entry) => entry.target)).toEqual(
        expect.arrayContaining([
          'subject:s-undo event=account-closed at=2024-01-31T00:00:00Z deleted=1 reason="closed by mistake, reopened the same day"',
          'subject:s-undo event=account-closed deleted=1 reason="wrong subject"',
        ]),
      );
    },
  );

  it.skipIf(missing)(
    "tells a service token only how many of its own system's fields an event moved",
    async () => {
      const recent = new Date(Date.now() - 60_000).toISOString();
      await ingest(
        usage('s-count', 'account-closure', ['accounts.email', 'accounts.name'], '2024-01-10T08:00:00Z'),
        usage('s-count', 'account-closure', ['orders.address'], '2024-01-10T08:00:00Z', 'orders'),
      );
      const sent = await sendEvents('s-count', { name: 'account-closed', at: recent }, 'service');
      expect(sent.statusCode, sent.body).toBe(200);
      // Three fields moved; the orders token learns of its one.
      expect(sent.json()).toMatchObject({ accepted: 1, fieldsChanged: 1 });
      const view = await subject('s-count');
      for (const field of ['accounts.email', 'accounts.name', 'orders.address'])
        expect(view.field(field).waitingFor, field).toBeUndefined();
    },
  );

  it.skipIf(missing)('counts from an event that arrived before the uses', async () => {
    // A service may not date an event further back than the event-id window; an admin may.
    const backdated = await sendEvents(
      's-early',
      { name: 'account-closed', at: '2025-01-31T12:00:00Z' },
      'service',
    );
    expect(backdated.statusCode, backdated.body).toBe(200);
    expect(backdated.json()).toMatchObject({ accepted: 0, rejected: [{ index: 0, code: 'INVALID_TIME' }] });
    const early = await sendEvents('s-early', { name: 'account-closed', at: '2025-01-31T12:00:00Z' });
    expect(early.statusCode, early.body).toBe(200);
    expect(early.json()).toMatchObject({ accepted: 1, fieldsChanged: 0 });
    await ingest(usage('s-early', 'account-closure', ['accounts.name'], '2025-01-05T00:00:00Z'));
    const view = await subject('s-early');
    // 2025 is not a leap year: Jan 31 + P1M = Feb 28.
    expect(view.field('accounts.name')).toMatchObject({ expiresAt: '2025-02-28T12:00:00.000Z' });
    expect(view.field('accounts.name').waitingFor).toBeUndefined();
  });

  it.skipIf(missing)('until: keeps a field to the fixed day, whatever its uses', async () => {
    await ingest(
      usage('s-until', 'contract-term', ['accounts.name'], '2024-05-05T00:00:00Z'),
      usage('s-until', 'contract-term', ['accounts.name'], '2024-09-05T00:00:00Z'),
    );
    const view = await subject('s-until');
    expect(view.field('accounts.name')).toMatchObject({
      expiresAt: '2027-03-01T00:00:00.000Z',
      policy: 'contract-term',
    });
    const feed = await call('GET', '/v1/expiries?day=2027-03-01');
    expect(feed.json().items.map((item: { subject: string }) => item.subject)).toContain('s-until');
  });

  it.skipIf(missing)(
    'keeps a system on the map while a fixed day or a waiting event holds its data',
    async () => {
      const put = await call('PUT', '/v1/systems/vault', {
        team: 'records',
        datasets: [
          { name: 'vault-data', fields: [{ name: 'contract', categories: ['user.contact.email'] }] },
        ],
      });
      expect(put.statusCode, put.body).toBeLessThan(300);
      // Last use plus P1Y ended in 2025; the policy keeps the field to its fixed day in 2027.
      await ingest(usage('s-vault', 'contract-term', ['vault-data.contract'], '2024-01-10T00:00:00Z'));
      const refused = await call('DELETE', '/v1/systems/vault');
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json().error).toMatchObject({ code: 'SYSTEM_HOLDS_DATA' });
      expect(refused.json().error.message).toContain('until 2027-03-01');
    },
  );

  it.skipIf(missing)('takes subject events in bulk as NDJSON and rejects bad lines one by one', async () => {
    const lines = [
      JSON.stringify({ id: 'bulk-1', name: 'account-closed', at: '2024-02-01T00:00:00Z' }),
      '{not json',
      JSON.stringify({ name: 'Account Closed', at: '2024-02-01T00:00:00Z' }),
      JSON.stringify({ name: 'account-closed', at: '2999-01-01T00:00:00Z' }),
      JSON.stringify({ name: 'account-closed', at: 'yesterday' }),
    ].join('\n');
    const response = await sendEvents('s-bulk', lines, 'admin', 'application/x-ndjson');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(
      response.json().rejected.map((r: { index: number; code: string }) => `${r.index} ${r.code}`),
    ).toEqual(['1 INVALID_JSON', '2 INVALID_EVENT', '3 INVALID_TIME', '4 INVALID_TIME']);
    const batch = await sendEvents('s-bulk', {
      events: [{ id: 'bulk-1', name: 'account-closed', at: '2024-02-01T00:00:00Z' }],
    });
    expect(batch.json()).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(
      (await sendEvents('s-bulk', { name: 'account-closed', at: '2024-02-01T00:00:00Z' }, 'dpo')).statusCode,
    ).toBe(403);
  });

  it.skipIf(missing)('previews and recomputes a change of since', async () => {
    await ingest(
      usage('s-switch', 'order-delivery', ['orders.address'], '2024-01-31T00:00:00Z', 'orders'),
      usage('s-switch', 'order-delivery', ['orders.address'], '2024-03-01T00:00:00Z', 'orders'),
    );
    const before = (await subject('s-switch')).field('orders.address').expiresAt;
    expect(before).toBe('2024-06-29T00:00:00.000Z');
    const preview = async (body: object) => {
      const response = await call('POST', '/v1/policies/order-delivery/preview', body);
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };
    expect(await preview({ retention: 'P120D', since: 'first-use' })).toMatchObject({
      currentSince: 'last-use',
      since: 'first-use',
      subjectFieldsUsingPolicy: 1,
      subjectFieldsChanged: 1,
      subjectFieldsEarlier: 1,
      earliestNewExpiry: '2024-05-30T00:00:00.000Z',
    });
    expect(await preview({ retention: 'P120D', since: 'until:2030-01-01' })).toMatchObject({
      subjectFieldsChanged: 1,
      subjectFieldsLater: 1,
      latestNewExpiry: '2030-01-01T00:00:00.000Z',
    });
    expect(await preview({ retention: 'P120D', since: 'event:order-returned' })).toMatchObject({
      subjectFieldsChanged: 1,
      subjectFieldsLater: 1,
      latestNewExpiry: WAITING,
    });
    expect(await preview({ retention: 'P120D' })).toMatchObject({
      since: 'last-use',
      subjectFieldsChanged: 0,
    });
    const bad = await call('POST', '/v1/policies/order-delivery/preview', {
      retention: 'P1D',
      since: 'until:2027-13-01',
    });
    expect(bad.statusCode).toBe(400);

    const put = await call('PUT', '/v1/policies/order-delivery', {
      ...POLICIES['order-delivery'],
      since: 'first-use',
      reason: 'count from the order',
    });
    expect(put.statusCode, put.body).toBe(200);
    const job = put.json().recompute.job as string;
    await waitFor(async () => (await call('GET', `/v1/jobs/${job}`)).json().state === 'done');
    expect((await subject('s-switch')).field('orders.address').expiresAt).toBe('2024-05-30T00:00:00.000Z');
    const back = await call('PUT', '/v1/policies/order-delivery', {
      ...POLICIES['order-delivery'],
      reason: 'back to the last use',
    });
    await waitFor(
      async () => (await call('GET', `/v1/jobs/${back.json().recompute.job}`)).json().state === 'done',
    );
    expect((await subject('s-switch')).field('orders.address').expiresAt).toBe(before);
  });

  it.skipIf(missing)('keeps an expire-now decision when the event arrives later', async () => {
    await ingest(usage('s-decided', 'account-closure', ['accounts.email'], '2024-03-01T00:00:00Z'));
    const decided = await call('POST', '/v1/subjects/s-decided/expire', { reason: 'complaint' }, 'dpo');
    expect(decided.statusCode, decided.body).toBe(200);
    const at = (await subject('s-decided')).field('accounts.email').expiresAt;
    expect(at).not.toBe(WAITING);
    // The event (yesterday, P1M) would keep it a month more; the decision stands (a recompute
    // never moves it later).
    const yesterday = new Date(Date.now() - 86_400_000).toISOString();
    const sent = await sendEvents('s-decided', { name: 'account-closed', at: yesterday });
    expect(sent.json()).toMatchObject({ accepted: 1, fieldsChanged: 0 });
    expect((await subject('s-decided')).field('accounts.email').expiresAt).toBe(at);
  });
});
