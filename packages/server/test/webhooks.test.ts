import { createHmac } from 'node:crypto';
import { WEBHOOK_EVENT_TYPES, type RightsRequest, type Webhook, type WebhookDelivery } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { WebhookNotices } from '../src/webhooks/webhook-notices.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';
import { startHttpRightsClient, type HttpRightsClientFixture } from './support/rights-client-fixtures.js';
import { SETTINGS } from './support/rights-request-company.js';
import { waitFor } from './support/wait-for.js';
import { startReceiver, type Message, type Received } from './support/webhook-receiver.js';

const available = await availableBackends();
const DAY = 86_400_000;

/** Standard Webhooks' check, written out here independently of the server's signing code. */
function signatureHolds(secret: string, received: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const content = `${String(received.headers['webhook-id'])}.${String(received.headers['webhook-timestamp'])}.${received.body}`;
  const expected = `v1,${createHmac('sha256', key).update(content).digest('base64')}`;
  return String(received.headers['webhook-signature']).split(' ').includes(expected);
}

/**
 * Webhooks (docs/webhooks.md) on every backend, against a receiver on loopback: subscriptions and
 * who may manage them, signatures, retries with backoff, giving up, the delivery log, redelivery,
 * and each event type fired by its real cause.
 */
describe.each(ALL_BACKENDS)('webhooks: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  /** The count the server's own sweep uses: fields past expiry per system, holds left out. */
  const pastExpiry = (now: number) => lethe.services.overview.fieldsPastExpiry(now);
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let crm: HttpRightsClientFixture;
  let exposed = '';
  const tokens = { admin: '', dpo: '', auditor: '', service: '' };
  let opsSecret = '';

  function call(method: string, url: string, payload?: unknown, as: keyof typeof tokens = 'admin') {
    return lethe.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${tokens[as]}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  async function ok<T>(method: string, url: string, payload?: unknown, as: keyof typeof tokens = 'admin') {
    const response = await call(method, url, payload, as);
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json<T>();
  }
  async function refused(
    status: number,
    code: string,
    method: string,
    url: string,
    payload?: unknown,
    as: keyof typeof tokens = 'admin',
  ) {
    const response = await call(method, url, payload, as);
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json<{ error: { code: string } }>().error.code).toBe(code);
  }
  async function eventOf(type: string, match: (data: Record<string, unknown>) => boolean = () => true) {
    let found: Message | undefined;
    await waitFor(async () => {
      found = receiver.messages().find((m) => m.type === type && match(m.data));
      return found !== undefined;
    }, 20_000);
    return found!;
  }
  const deliveries = (name: string) =>
    ok<{ items: WebhookDelivery[] }>('GET', `/v1/webhooks/${name}/deliveries`).then((r) => r.items);

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    dispose = location.dispose;
    receiver = await startReceiver(() => exposed);
    lethe = await createLethe({
      ...location,
      rateLimit: false,
      requestSettings: { ...SETTINGS, maxAttempts: 2 },
      requestTickMs: 50,
      // Time-found facts are swept by the test itself, with a clock of its own.
      webhooks: {
        tickMs: 50,
        noticeTickMs: 3_600_000,
        baseDelayMs: 200,
        maxDelayMs: 1_000,
        maxAttempts: 3,
        timeoutMs: 2_000,
        // The receiver is on loopback, which is refused unless allowed.
        allowedNetworks: ['127.0.0.0/8'],
      },
    });
    const mint = async (request: Parameters<Lethe['tokens']['mint']>[0]) =>
      (await lethe.tokens.mint(request)).token;
    tokens.admin = await mint({ subject: 'hooks-admin', role: 'admin', ttlSeconds: 600 });
    tokens.dpo = await mint({ subject: 'dpo-dora', role: 'dpo', ttlSeconds: 600 });
    tokens.auditor = await mint({ subject: 'auditor-al', role: 'auditor', ttlSeconds: 600 });
    tokens.service = await mint({
      subject: 'orders-svc',
      role: 'service',
      system: 'orders',
      ttlSeconds: 600,
    });
    crm = await startHttpRightsClient({
      audience: 'rights-client:crm-api',
      records: new Map(),
      // A person whose address says "fail" makes every system fail: the request fails.
      respond: (recorded) => (JSON.stringify(recorded.body).includes('fail') ? { status: 503 } : undefined),
    });
    for (const [name, body] of Object.entries(POLICIES)) await ok('PUT', `/v1/policies/${name}`, body);
    for (const [name, body] of Object.entries(SYSTEMS)) await ok('PUT', `/v1/systems/${name}`, body);
    // Every system answers through the one client fixture, so that a request settles by itself.
    for (const system of Object.keys(SYSTEMS)) {
      await ok('PUT', `/v1/clients/${system}-api`, { system, protocol: 'http', address: crm.url });
    }
    const created = await call('POST', '/v1/webhooks', {
      name: 'ops',
      url: `${receiver.url}/ok`,
      events: [...WEBHOOK_EVENT_TYPES],
    });
    expect(created.statusCode, created.body).toBe(201);
    opsSecret = created.json<Webhook>().secret ?? '';
  }, 60_000);

  afterAll(async () => {
    if (missing) return;
    await lethe.close();
    await crm.close();
    await receiver.close();
    await dispose();
  });

  it.skipIf(missing)(
    'shows the secret once, wrapped at rest; refuses bad input and every role but admin',
    async () => {
      expect(opsSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      const shown = await ok<Webhook>('GET', '/v1/webhooks/ops', undefined, 'dpo');
      expect(shown).toMatchObject({ name: 'ops', dueSoonDays: 7, createdBy: 'hooks-admin' });
      expect(shown.secret).toBeUndefined();
      expect(JSON.stringify(await ok('GET', '/v1/webhooks'))).not.toContain(opsSecret.slice(6));
      const stored = await lethe.services.store.repository.webhooks.get('ops');
      expect(stored?.secret).not.toContain(opsSecret.slice(6));

      const body = { name: 'x', url: `${receiver.url}/ok`, events: ['request.completed'] };
      await refused(400, 'WEBHOOK_URL_INVALID', 'POST', '/v1/webhooks', { ...body, url: 'not a url' });
      await refused(400, 'WEBHOOK_URL_INVALID', 'POST', '/v1/webhooks', {
        ...body,
        url: 'http://example.com/hook',
      });
      await refused(400, 'WEBHOOK_URL_INVALID', 'POST', '/v1/webhooks', {
        ...body,
        url: 'ftp://example.com/hook',
      });
      await refused(400, 'VALIDATION_FAILED', 'POST', '/v1/webhooks', {
        ...body,
        events: ['request.exploded'],
      });
      await refused(400, 'VALIDATION_FAILED', 'POST', '/v1/webhooks', { ...body, dueSoonDays: 0 });
      await refused(409, 'WEBHOOK_EXISTS', 'POST', '/v1/webhooks', { ...body, name: 'ops' });
      // Two creates of one name at once: one is made, the other refused with the same code.
      const racing = await Promise.all(
        [1, 2].map(() => call('POST', '/v1/webhooks', { ...body, name: 'race' })),
      );
      expect(racing.map((response) => response.statusCode).sort()).toEqual([201, 409]);
      expect(racing.find((response) => response.statusCode === 409)?.json().error.code).toBe(
        'WEBHOOK_EXISTS',
      );
      expect((await call('DELETE', '/v1/webhooks/race')).statusCode).toBe(204);
      await refused(404, 'WEBHOOK_NOT_FOUND', 'GET', '/v1/webhooks/nope');
      await refused(
        404,
        'WEBHOOK_DELIVERY_NOT_FOUND',
        'POST',
        `/v1/webhooks/deliveries/whd_${'0'.repeat(32)}/redeliver`,
      );
      for (const role of ['dpo', 'auditor', 'service'] as const) {
        await refused(403, 'FORBIDDEN', 'POST', '/v1/webhooks', body, role);
        await refused(403, 'FORBIDDEN', 'DELETE', '/v1/webhooks/ops', undefined, role);
      }
      for (const role of ['auditor', 'service'] as const)
        await refused(403, 'FORBIDDEN', 'GET', '/v1/webhooks', undefined, role);
    },
  );

  it.skipIf(missing)('signs deliveries Standard Webhooks style; a wrong secret does not verify', async () => {
    const id = `dsar-ok-${backend.name}`;
    await ok('POST', '/v1/requests', { id, type: 'dsar', identifiers: { email: 'ok@example.com' } }, 'dpo');
    const message = await eventOf('request.completed', (data) => data['request'] === id);
    expect(message.data).toMatchObject({
      request: id,
      type: 'dsar',
      status: 'completed',
      link: `/v1/requests/${id}`,
    });
    expect(JSON.stringify(message)).not.toContain('ok@example.com');
    const raw = receiver.received.find(
      (r) => r.body.includes(`"request":"${id}"`) && r.body.includes('request.completed'),
    )!;
    expect(raw.headers['webhook-id']).toBe(message.id);
    expect(Math.abs(Number(raw.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(raw.headers['content-type']).toBe('application/json');
    expect(signatureHolds(opsSecret, raw)).toBe(true);
    expect(signatureHolds(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, raw)).toBe(false);
    // The body as received is what was signed: one changed byte and the signature fails.
    expect(signatureHolds(opsSecret, { ...raw, body: raw.body.replace('completed', 'Completed') })).toBe(
      false,
    );

    const rotated = await ok<Webhook>('POST', '/v1/webhooks/ops/secret');
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(opsSecret);
    opsSecret = rotated.secret ?? '';
  });

  it.skipIf(missing)(
    'retries after 500s with growing waits, then succeeds; gives up after the limit; redelivers',
    async () => {
      await ok('POST', '/v1/webhooks', {
        name: 'flaky',
        url: `${receiver.url}/flaky`,
        events: ['request.completed'],
      });
      await ok('POST', '/v1/webhooks', {
        name: 'down',
        url: `${receiver.url}/down`,
        events: ['request.completed'],
      });
      const id = `dsar-retry-${backend.name}`;
      await ok(
        'POST',
        '/v1/requests',
        { id, type: 'dsar', identifiers: { email: 'retry@example.com' } },
        'dpo',
      );

      await waitFor(async () => (await deliveries('flaky')).some((d) => d.status === 'delivered'), 20_000);
      const [flaky] = await deliveries('flaky');
      expect(flaky).toMatchObject({
        status: 'delivered',
        attempts: 3,
        responseStatus: 200,
        type: 'request.completed',
      });
      expect(flaky?.latencyMs).toBeGreaterThanOrEqual(0);
      const calls = receiver.received.filter((r) => r.path === '/flaky');
      expect(calls).toHaveLength(3);
      // Backoff: the first retry waits at least half of 200 ms, the second at least half of 400 ms.
      expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(100);
      expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(200);
      // Every attempt is the same event: same id, and signed.
      expect(new Set(calls.map((c) => c.headers['webhook-id'])).size).toBe(1);

      await waitFor(async () => (await deliveries('down')).some((d) => d.status === 'failed'), 20_000);
      const [failed] = await deliveries('down');
      expect(failed).toMatchObject({ status: 'failed', attempts: 3, responseStatus: 500, error: 'HTTP 500' });
      expect(failed?.nextAttemptAt).toBeUndefined();
      expect(receiver.received.filter((r) => r.path === '/down')).toHaveLength(3);

      const again = await call('POST', `/v1/webhooks/deliveries/${failed!.id}/redeliver`);
      expect(again.statusCode, again.body).toBe(202);
      expect(again.json<WebhookDelivery>()).toMatchObject({
        status: 'pending',
        attempts: 0,
        redeliveryOf: failed!.id,
        eventId: failed!.eventId,
      });
      await refused(
        403,
        'FORBIDDEN',
        'POST',
        `/v1/webhooks/deliveries/${failed!.id}/redeliver`,
        undefined,
        'dpo',
      );
      await waitFor(async () => receiver.received.filter((r) => r.path === '/down').length >= 4, 20_000);
      // The receiver is still down: the redelivery has its own attempts and log row.
      await ok('PATCH', '/v1/webhooks/down', { url: `${receiver.url}/ok` });
      await waitFor(
        async () =>
          (await deliveries('down')).some((d) => d.redeliveryOf === failed!.id && d.status === 'delivered'),
        20_000,
      );

      const metrics = await lethe.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/lethe_webhook_deliveries_total\{outcome="retry"\} [1-9]/);
      expect(metrics.body).toMatch(/lethe_webhook_deliveries_total\{outcome="failed"\} [1-9]/);
      expect((await call('DELETE', '/v1/webhooks/flaky')).statusCode).toBe(204);
      expect((await call('DELETE', '/v1/webhooks/down')).statusCode).toBe(204);
      await refused(404, 'WEBHOOK_NOT_FOUND', 'GET', '/v1/webhooks/down/deliveries');
    },
  );

  it.skipIf(missing)(
    'a failing system fails the request: request.failed; still open past its deadline: overdue and due soon',
    async () => {
      const id = `delete-fail-${backend.name}`;
      await ok(
        'POST',
        '/v1/requests',
        { id, type: 'delete', identifiers: { email: 'fail@example.com' } },
        'dpo',
      );
      const failed = await eventOf('request.failed', (data) => data['request'] === id);
      expect(failed.data).toMatchObject({
        status: 'failed',
        failedTasks: ['accounts-api'],
      });
      const request = await ok<RightsRequest>('GET', `/v1/requests/${id}`, undefined, 'dpo');
      const dueAt = Date.parse(request.dueAt);

      // Three days before the deadline (default horizon 7 days): due soon, once.
      const soon = new WebhookNotices(lethe.services.store, pastExpiry, () => dueAt - 3 * DAY);
      await soon.run();
      await soon.run();
      const dueSoon = await eventOf('request.due_soon', (data) => data['request'] === id);
      expect(dueSoon.data).toMatchObject({ days: 7, dueAt: request.dueAt });
      // A day past it: overdue, once however often the sweep runs.
      const late = new WebhookNotices(lethe.services.store, pastExpiry, () => dueAt + DAY);
      await late.run();
      await late.run();
      await eventOf('request.overdue', (data) => data['request'] === id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const count = (type: string) =>
        receiver.messages().filter((m) => m.type === type && m.data['request'] === id).length;
      expect(count('request.due_soon')).toBe(1);
      expect(count('request.overdue')).toBe(1);
      // A subscription made after the request went overdue still hears of it, once.
      const lateComer = `late-comer-${backend.name}`;
      await ok('POST', '/v1/webhooks', {
        name: lateComer,
        url: `${receiver.url}/late`,
        events: ['request.overdue'],
      });
      await late.run();
      await late.run();
      await waitFor(async () => receiver.messages('/late').some((m) => m.data['request'] === id));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.messages('/late').filter((m) => m.data['request'] === id)).toHaveLength(1);
      expect(count('request.overdue')).toBe(1);
      expect((await call('DELETE', `/v1/webhooks/${lateComer}`)).statusCode).toBe(204);
    },
  );

  it.skipIf(missing)(
    'expiries.due: one digest per system and day, counts and a link, no subject ids',
    async () => {
      const old = new Date(Date.now() - 400 * DAY).toISOString();
      const events = [
        usage('due-subject-1', 'order-delivery', ['orders.address'], old),
        usage('due-subject-2', 'order-delivery', ['orders.address'], old),
      ];
      expect((await call('POST', '/v1/events', { events })).statusCode).toBe(200);
      const notices = new WebhookNotices(lethe.services.store, pastExpiry);
      await waitFor(async () => {
        await notices.run();
        return receiver.messages().some((m) => m.type === 'expiries.due' && m.data['system'] === 'orders');
      }, 20_000);
      const digest = receiver
        .messages()
        .find((m) => m.type === 'expiries.due' && m.data['system'] === 'orders')!;
      expect(digest.data).toEqual({
        day: new Date().toISOString().slice(0, 10),
        system: 'orders',
        dueFields: 2,
        feed: '/v1/expiries/due?system=orders',
      });
      expect(JSON.stringify(digest)).not.toContain('due-subject');
      await notices.run();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(
        receiver.messages().filter((m) => m.type === 'expiries.due' && m.data['system'] === 'orders'),
      ).toHaveLength(1);
    },
  );

  it.skipIf(missing)('datamap.drift: a discovery run that sees new series', async () => {
    exposed = 'transmit{team="growth",service="billing",to_service="ledger",data_type="user.name"} 1\n';
    await ok('POST', '/v1/datamap/sources/scrape', { name: 'direct', targets: [`${receiver.url}/metrics`] });
    await ok('POST', '/v1/datamap/sources/direct/discover');
    const drift = await eventOf('datamap.drift', (data) => data['source'] === 'direct');
    expect(drift.data).toMatchObject({ source: 'direct', newSeries: 1, drift: '/v1/datamap/drift' });
  });
  it.skipIf(missing)(
    'reappearance.detected and consent.violation: from the fold, counts per system, no subject ids',
    async () => {
      const at = (day: string) => `${day}T00:00:00Z`;
      const publish = async (events: unknown[]) =>
        expect((await call('POST', '/v1/events', { events })).statusCode).toBe(200);
      await publish([usage('back-subject', 'user-account-access', ['accounts.email'], at('2024-03-01'))]);
      const erased = await call('POST', '/v1/subjects/back-subject/erasures', {
        system: 'accounts',
        at: at('2024-03-02'),
      });
      expect(erased.statusCode, erased.body).toBeLessThan(300);
      await publish([usage('back-subject', 'user-account-access', ['accounts.email'], at('2024-03-03'))]);
      const back = await eventOf('reappearance.detected', (data) => data['system'] === 'accounts');
      expect(back.data).toEqual({ system: 'accounts', fields: 1, reappearances: '/v1/reappearances' });

      const withdrawn = await call('PUT', '/v1/subjects/mail-subject/consent', {
        purposes: { 'marketing.email': false },
        at: at('2024-01-01'),
      });
      expect(withdrawn.statusCode, withdrawn.body).toBeLessThan(300);
      await publish([usage('mail-subject', 'send-marketing-email', ['accounts.email'], at('2024-02-01'))]);
      const violation = await eventOf('consent.violation', (data) => data['system'] === 'mailer');
      expect(violation.data).toEqual({
        system: 'mailer',
        uses: 1,
        subjects: 1,
        policies: ['send-marketing-email'],
        violations: '/v1/consent/violations',
      });
      const bodies = receiver.received.map((r) => r.body).join('\n');
      expect(bodies).not.toContain('back-subject');
      expect(bodies).not.toContain('mail-subject');
    },
  );

  it.skipIf(missing)('a system filter limits the events that concern one system', async () => {
    await ok('POST', '/v1/webhooks', {
      name: 'orders-only',
      url: `${receiver.url}/orders`,
      events: ['reappearance.detected', 'request.completed'],
      systems: ['orders'],
    });
    const at = (day: string) => `${day}T00:00:00Z`;
    const publish = async (events: unknown[]) =>
      expect((await call('POST', '/v1/events', { events })).statusCode).toBe(200);
    await publish([usage('filter-subject', 'user-account-access', ['accounts.email'], at('2024-04-01'))]);
    await publish([usage('filter-subject', 'order-delivery', ['orders.address'], at('2024-04-01'))]);
    for (const system of ['accounts', 'orders']) {
      const erased = await call('POST', '/v1/subjects/filter-subject/erasures', {
        system,
        at: at('2024-04-02'),
      });
      expect(erased.statusCode, erased.body).toBeLessThan(300);
    }
    await publish([
      usage('filter-subject', 'user-account-access', ['accounts.email'], at('2024-04-03')),
      usage('filter-subject', 'order-delivery', ['orders.address'], at('2024-04-03')),
    ]);
    await waitFor(async () => receiver.received.some((r) => r.path === '/orders'), 20_000);
    await eventOf(
      'reappearance.detected',
      (data) =>
        data['system'] === 'accounts' &&
        data['fields'] === 1 &&
        receiver.messages().filter((m) => m.type === 'reappearance.detected').length >= 2,
    );
    const id = `dsar-filter-${backend.name}`;
    await ok(
      'POST',
      '/v1/requests',
      { id, type: 'dsar', identifiers: { email: 'filter@example.com' } },
      'dpo',
    );
    await waitFor(
      async () =>
        receiver.messages('/orders').some((m) => m.type === 'request.completed' && m.data['request'] === id),
      20_000,
    );
    const heard = receiver.messages('/orders').filter((m) => m.type === 'reappearance.detected');
    expect(heard.map((m) => m.data['system'])).toEqual(['orders']);
  });
});
