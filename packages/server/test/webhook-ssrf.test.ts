import type { LookupAddress } from 'node:dns';
import type { WebhookDelivery } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { emitWebhookEvent } from '../src/webhooks/webhook-outbox.js';
import { resolveWithDns } from '../src/webhooks/webhook-post.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { waitFor } from './support/wait-for.js';
import { startReceiver } from './support/webhook-receiver.js';
import { unusedPort } from './support/ports.js';

const SETTINGS = { tickMs: 50, noticeTickMs: 3_600_000, maxAttempts: 1, timeoutMs: 1_000 };

/** A resolver with names of its own (`*.lethe.test`), the system's for the others; counts its calls. */
function testResolver() {
  const names = new Map<string, string[]>();
  const calls: string[] = [];
  return {
    names,
    calls,
    resolve: async (hostname: string): Promise<LookupAddress[]> => {
      calls.push(hostname);
      const addresses = names.get(hostname);
      if (!addresses) return resolveWithDns(hostname);
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
  };
}

/**
 * Webhooks cannot be aimed at the host or its private network (docs/webhooks.md "Receiver
 * addresses"): an address in the URL is refused when the webhook is set, a host name at each
 * send, after resolving it once and pinning the connection to what was checked; the delivery log
 * says what kind of failure happened, never the address. Two servers on SQLite (the checks do not
 * depend on the store): one with no allowed networks, one that allows loopback.
 */
describe('webhook receiver addresses (SSRF)', () => {
  const servers: { lethe: Lethe; dispose: () => Promise<void> }[] = [];
  let strict: Lethe;
  let allowing: Lethe;
  let admin = { strict: '', allowing: '' };
  const strictNames = testResolver();
  const allowingNames = testResolver();
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let port = 0;

  async function start(webhooks: object): Promise<[Lethe, string]> {
    const location = await SQLITE_BACKEND.create();
    const lethe = await createLethe({
      ...location,
      rateLimit: false,
      webhooks: { ...SETTINGS, ...webhooks },
    });
    servers.push({ lethe, dispose: location.dispose });
    const { token } = await lethe.tokens.mint({ subject: 'hooks-admin', role: 'admin', ttlSeconds: 600 });
    return [lethe, token];
  }
  function call(lethe: Lethe, method: string, url: string, payload?: unknown) {
    const token = lethe === strict ? admin.strict : admin.allowing;
    return lethe.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  /** Subscribes `name` to `url`, sends it one event, and returns its delivery once settled. */
  async function deliverOnce(lethe: Lethe, name: string, url: string): Promise<WebhookDelivery> {
    const created = await call(lethe, 'POST', '/v1/webhooks', { name, url, events: ['request.completed'] });
    expect(created.statusCode, created.body).toBe(201);
    await lethe.services.store.transaction((repository) =>
      emitWebhookEvent(repository, { type: 'request.completed', webhook: name, data: { request: name } }),
    );
    let settled: WebhookDelivery | undefined;
    await waitFor(async () => {
      const log = (await call(lethe, 'GET', `/v1/webhooks/${name}/deliveries`)).json<{
        items: WebhookDelivery[];
      }>();
      settled = log.items.find((delivery) => delivery.status !== 'pending');
      return settled !== undefined;
    });
    return settled!;
  }

  beforeAll(async () => {
    receiver = await startReceiver(() => '');
    port = Number(new URL(receiver.url).port);
    strictNames.names.set('mixed.lethe.test', ['93.184.215.14', '10.0.0.5']);
    strictNames.names.set('metadata.lethe.test', ['169.254.169.254']);
    [strict, admin.strict] = await start({ resolve: strictNames.resolve });
    [allowing, admin.allowing] = await start({
      resolve: allowingNames.resolve,
      // http to a name of the test's own (receiver.lethe.test), which is not loopback by its name.
      allowHttp: true,
      allowedNetworks: ['127.0.0.0/8', '::1/128'],
    });
    admin = { strict: admin.strict, allowing: admin.allowing };
  }, 60_000);

  afterAll(async () => {
    for (const { lethe, dispose } of servers) {
      await lethe.close();
      await dispose();
    }
    await receiver.close();
  });

  it('refuses a private, loopback or metadata address written in the URL, with a stable code', async () => {
    for (const url of [
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.5/hook',
      'https://[::ffff:169.254.169.254]/',
      `http://127.0.0.1:${port}/ok`,
    ]) {
      const response = await call(strict, 'POST', '/v1/webhooks', {
        name: 'bad',
        url,
        events: ['request.completed'],
      });
      expect(response.statusCode, url).toBe(400);
      expect(response.json<{ error: { code: string } }>().error.code).toBe('WEBHOOK_URL_INVALID');
    }
    const created = await call(strict, 'POST', '/v1/webhooks', {
      name: 'public',
      url: 'https://93.184.215.14/hook',
      events: ['request.completed'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const moved = await call(strict, 'PATCH', '/v1/webhooks/public', { url: 'https://169.254.169.254/' });
    expect(moved.statusCode).toBe(400);
    expect(moved.json<{ error: { code: string } }>().error.code).toBe('WEBHOOK_URL_INVALID');
    const manifest = await call(strict, 'POST', '/v1/manifest', {
      webhooks: [{ name: 'meta', url: 'https://169.254.169.254/', events: ['request.completed'] }],
    });
    expect(manifest.statusCode).toBe(400);
    expect(manifest.json<{ error: { code: string } }>().error.code).toBe('WEBHOOK_URL_INVALID');
    // An allowed network lets the address through.
    const allowed = await call(allowing, 'POST', '/v1/webhooks', {
      name: 'literal-loopback',
      url: `http://127.0.0.1:${port}/literal`,
      events: ['request.completed'],
    });
    expect(allowed.statusCode, allowed.body).toBe(201);
  });

  it('refuses at send a host name that resolves to a private address, even one among public ones', async () => {
    for (const [name, url] of [
      ['localhost', `http://localhost:${port}/local`],
      ['mixed', `https://mixed.lethe.test:${port}/mixed`],
      ['metadata', 'https://metadata.lethe.test/latest/meta-data/'],
    ] as const) {
      const delivery = await deliverOnce(strict, name, url);
      expect(delivery, name).toMatchObject({ status: 'failed', attempts: 1, error: 'address not allowed' });
      expect(delivery.responseStatus).toBeUndefined();
    }
    expect(receiver.received.filter((r) => r.path === '/local' || r.path === '/mixed')).toHaveLength(0);
  });

  it('lets loopback through when allowed: by name (localhost) and by address', async () => {
    expect(
      await deliverOnce(allowing, 'local-allowed', `http://localhost:${port}/local-allowed`),
    ).toMatchObject({
      status: 'delivered',
      responseStatus: 204,
    });
    expect(receiver.received.filter((r) => r.path === '/local-allowed')).toHaveLength(1);
  });

  it('resolves once per attempt and connects to the address it checked, naming the host', async () => {
    allowingNames.names.set('receiver.lethe.test', ['127.0.0.1']);
    const before = allowingNames.calls.length;
    const delivery = await deliverOnce(allowing, 'pinned', `http://receiver.lethe.test:${port}/pinned`);
    expect(delivery).toMatchObject({ status: 'delivered', responseStatus: 204 });
    // The name exists nowhere but in the test's resolver: the request arrived at the checked address.
    const [arrived] = receiver.received.filter((r) => r.path === '/pinned');
    expect(arrived?.headers.host).toBe(`receiver.lethe.test:${port}`);
    expect(allowingNames.calls.slice(before)).toEqual(['receiver.lethe.test']);

    // The name now points into the private network: the next attempt checks again and refuses.
    allowingNames.names.set('receiver.lethe.test', ['10.0.0.5']);
    await allowing.services.store.transaction((repository) =>
      emitWebhookEvent(repository, {
        type: 'request.completed',
        webhook: 'pinned',
        data: { request: 'again' },
      }),
    );
    await waitFor(async () => {
      const log = (await call(allowing, 'GET', '/v1/webhooks/pinned/deliveries')).json<{
        items: WebhookDelivery[];
      }>();
      return log.items.some((d) => d.error === 'address not allowed');
    });
    expect(allowingNames.calls.slice(before)).toEqual(['receiver.lethe.test', 'receiver.lethe.test']);
    expect(receiver.received.filter((r) => r.path === '/pinned')).toHaveLength(1);
  });

  it('logs the kind of a failure, never its message with the address', async () => {
    const refused = await deliverOnce(allowing, 'refused', `http://127.0.0.1:${await unusedPort()}/x`);
    const tls = await deliverOnce(allowing, 'tls', `https://127.0.0.1:${port}/tls`);
    const slow = await deliverOnce(allowing, 'slow', `http://127.0.0.1:${port}/hang`);
    const status = await deliverOnce(allowing, 'status', `http://127.0.0.1:${port}/down`);
    expect([refused.error, tls.error, slow.error, status.error]).toEqual([
      'connection refused',
      'TLS error',
      'timed out',
      'HTTP 500',
    ]);
    expect(slow.latencyMs).toBeGreaterThanOrEqual(900);
  });
});
