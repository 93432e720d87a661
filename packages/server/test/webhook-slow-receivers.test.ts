import type { Webhook, WebhookDelivery, WebhookEventType } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { MAX_IN_FLIGHT_PER_WEBHOOK } from '../src/webhooks/webhook-deliverer.js';
import { emitWebhookEvent } from '../src/webhooks/webhook-outbox.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { waitFor } from './support/wait-for.js';
import { startReceiver } from './support/webhook-receiver.js';

const available = await availableBackends();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TIMEOUT_MS = 5_000;
const PAUSE_MS = 1_500;

/**
 * Slow and failing receivers (docs/webhooks.md "Slow and failing receivers"), on every backend:
 * a receiver that hangs until the timeout holds up only its own deliveries, and one that keeps
 * failing is paused by its circuit breaker (kept in the store), probed one attempt at a time,
 * and resumed by a delivered attempt or a new URL.
 */
describe.each(ALL_BACKENDS)('webhooks, slow and failing receivers: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let admin = '';

  function call(method: string, url: string, payload?: unknown) {
    return lethe.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${admin}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  async function subscribe(name: string, path: string, events: WebhookEventType[]) {
    const created = await call('POST', '/v1/webhooks', { name, url: `${receiver.url}${path}`, events });
    expect(created.statusCode, created.body).toBe(201);
  }
  async function emit(type: WebhookEventType, count: number) {
    await lethe.services.store.transaction(async (repository) => {
      for (let n = 0; n < count; n += 1) await emitWebhookEvent(repository, { type, data: { n } });
    });
  }
  const deliveries = async (name: string) =>
    (await call('GET', `/v1/webhooks/${name}/deliveries`)).json<{ items: WebhookDelivery[] }>().items;
  const webhook = async (name: string) => (await call('GET', `/v1/webhooks/${name}`)).json<Webhook>();
  const calls = (path: string) => receiver.received.filter((r) => r.path === path);

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create();
    dispose = location.dispose;
    receiver = await startReceiver(() => '');
    lethe = await createLethe({
      ...location,
      rateLimit: false,
      webhooks: {
        tickMs: 50,
        noticeTickMs: 3_600_000,
        baseDelayMs: 100,
        maxDelayMs: 200,
        maxAttempts: 20,
        timeoutMs: TIMEOUT_MS,
        breakerFailures: 3,
        breakerPauseMs: PAUSE_MS,
        allowedNetworks: ['127.0.0.0/8'],
      },
    });
    admin = (await lethe.tokens.mint({ subject: 'hooks-admin', role: 'admin', ttlSeconds: 600 })).token;
  }, 60_000);

  afterAll(async () => {
    if (missing) return;
    await receiver.close();
    await lethe.close();
    await dispose();
  });

  it.skipIf(missing)('a receiver that hangs holds up only its own deliveries', async () => {
    await subscribe('slow', '/hang', ['request.completed']);
    await subscribe('fast', '/fast', ['request.completed']);
    await emit('request.completed', 12);
    const started = Date.now();
    await waitFor(async () => calls('/fast').length === 12, TIMEOUT_MS * 3);
    const fastDone = Date.now() - started;
    // The slow receiver's attempts are still hanging: not one has timed out yet.
    const slow = await deliveries('slow');
    expect(slow.filter((d) => d.attempts > 0)).toHaveLength(0);
    expect(fastDone).toBeLessThan(TIMEOUT_MS / 2);
    expect(calls('/hang').length).toBeGreaterThan(0);
    expect(calls('/hang').length).toBeLessThanOrEqual(MAX_IN_FLIGHT_PER_WEBHOOK);
    // Their outcomes are written just after the answers arrive.
    await waitFor(async () => (await deliveries('fast')).every((d) => d.status === 'delivered'));
    expect((await call('DELETE', '/v1/webhooks/slow')).statusCode).toBe(204);
  });

  it.skipIf(missing)(
    'a receiver that keeps failing is paused, probed one attempt at a time, and resumed',
    async () => {
      await subscribe('down', '/down', ['datamap.drift']);
      await emit('datamap.drift', 6);
      await waitFor(async () => (await webhook('down')).pausedUntil !== undefined);
      // The attempts that were under way when it paused end (each failure extends the pause).
      await sleep(300);
      const paused = await webhook('down');
      const before = calls('/down').length;
      expect(paused.consecutiveFailures).toBe(before);
      expect(before).toBeGreaterThanOrEqual(3);
      expect(before).toBeLessThanOrEqual(6);
      const pending = await deliveries('down');
      expect(pending.every((d) => d.status === 'pending' && d.pausedUntil === paused.pausedUntil)).toBe(true);
      // Paused: the deliveries stay pending and no attempt starts, although their retries are due.
      await sleep(400);
      expect(calls('/down')).toHaveLength(before);

      // Once the pause is over, one attempt probes the receiver; it fails, and the pause starts again.
      await waitFor(async () => calls('/down').length > before, PAUSE_MS * 4);
      await sleep(300);
      expect(calls('/down')).toHaveLength(before + 1);
      const again = await webhook('down');
      expect(again.consecutiveFailures).toBe(before + 1);
      expect(Date.parse(again.pausedUntil ?? '')).toBeGreaterThan(Date.parse(paused.pausedUntil ?? ''));

      // A new URL is a new receiver: the breaker closes and the waiting deliveries go out.
      const moved = await call('PATCH', '/v1/webhooks/down', { url: `${receiver.url}/fixed` });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(moved.json<Webhook>()).not.toHaveProperty('pausedUntil');
      await waitFor(async () => (await deliveries('down')).every((d) => d.status === 'delivered'));
      expect(calls('/fixed')).toHaveLength(6);
      const resumed = await webhook('down');
      expect(resumed.pausedUntil).toBeUndefined();
      expect(resumed.consecutiveFailures).toBeUndefined();
    },
  );
});
