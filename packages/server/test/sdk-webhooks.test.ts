import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LetheApiError, LetheClient } from '@lethe/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { emitWebhookEvent } from '../src/webhooks/webhook-outbox.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { waitFor } from './support/wait-for.js';

/**
 * The SDK's webhook calls against the real server (HTTP on a real port, SQLite) and a real
 * receiver on loopback: subscribe, change, rotate, the delivery log, redelivery, removal.
 */
describe('SDK webhooks against the real server', () => {
  let location: Awaited<ReturnType<typeof SQLITE_BACKEND.create>>;
  let lethe: Lethe;
  let client: LetheClient;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += String(chunk)));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  let receiverUrl = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    location = await SQLITE_BACKEND.create({ migrated: true });
    lethe = await createLethe({
      dataDir: location.dataDir,
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
    const url = await lethe.app.listen({ port: 0, host: '127.0.0.1' });
    const { token } = await lethe.tokens.mint({ subject: 'sdk-admin', role: 'admin', ttlSeconds: 600 });
    client = new LetheClient({ url, token, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await lethe.close();
    await location.dispose();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('manages a subscription and its deliveries, typed from @lethe/api', async () => {
    const created = await client.createWebhook({ name: 'ops', url: receiverUrl, events: ['datamap.drift'] });
    expect(created.secret).toMatch(/^whsec_/);
    expect(await client.getWebhook('ops')).not.toHaveProperty('secret');
    expect((await client.listWebhooks()).items.map((w) => w.name)).toEqual(['ops']);

    const changed = await client.updateWebhook('ops', {
      events: ['datamap.drift', 'request.failed'],
      dueSoonDays: 2,
    });
    expect(changed).toMatchObject({ events: ['datamap.drift', 'request.failed'], dueSoonDays: 2 });
    const rotated = await client.rotateWebhookSecret('ops');
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);

    // A real event through the server's outbox: delivered, signed with the rotated secret.
    const eventId = await lethe.services.store.transaction((repository) =>
      emitWebhookEvent(repository, { type: 'datamap.drift', data: { source: 'prom', newSeries: 1 } }),
    );
    await waitFor(
      async () => (await client.listWebhookDeliveries('ops')).items[0]?.status === 'delivered',
      10_000,
    );
    const [delivery] = (await client.listWebhookDeliveries('ops', { limit: 1 })).items;
    expect(delivery).toMatchObject({
      webhook: 'ops',
      eventId,
      type: 'datamap.drift',
      attempts: 1,
      responseStatus: 204,
    });
    const first = received[0]!;
    const key = Buffer.from(rotated.secret!.replace(/^whsec_/, ''), 'base64');
    const signed = `${String(first.headers['webhook-id'])}.${String(first.headers['webhook-timestamp'])}.${first.body}`;
    expect(first.headers['webhook-signature']).toBe(
      `v1,${createHmac('sha256', key).update(signed).digest('base64')}`,
    );

    const again = await client.redeliverWebhookDelivery(delivery!.id);
    expect(again).toMatchObject({ eventId, status: 'pending', redeliveryOf: delivery!.id });
    await waitFor(async () => received.length === 2, 10_000);
    expect(JSON.parse(received[1]!.body)).toMatchObject({ id: eventId, type: 'datamap.drift' });

    await client.deleteWebhook('ops');
    expect((await client.listWebhooks()).items).toEqual([]);
    const gone = await client.getWebhook('ops').catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(LetheApiError);
    expect(gone).toMatchObject({ status: 404, code: 'WEBHOOK_NOT_FOUND' });
  });
});
