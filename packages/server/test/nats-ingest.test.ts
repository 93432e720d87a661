import type { StreamIngestResult } from '@lethe/api';
import type { NatsConnection } from 'nats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Metrics } from '../src/api/metrics.js';
import type { Principal } from '../src/auth/principal.js';
import { JetStreamIngest, NATS_INGEST_PRINCIPAL, type DeadLetter } from '../src/streams/jetstream-ingest.js';
import { ensureNatsTopology, type NatsSettings } from '../src/streams/nats-settings.js';
import type { StreamIngest } from '../src/streams/stream-log.js';
import { ArrayStreamLog } from './support/array-stream-log.js';
import { connectTestNats, deleteNatsTopology, natsAvailability, uniqueNatsSettings } from './support/nats.js';

/**
 * The JetStream ingest consumer against a real NATS JetStream server, writing into the array
 * fixture that stands in for the stream core (`ArrayStreamLog`).
 */

const skipReason = await natsAvailability();

function envelope(n: number) {
  return {
    id: `ev-${n}`,
    contract: 'clicks@1',
    consent: ['essential'],
    data: { url: `https://x.test/${n}` },
  };
}

describe.skipIf(skipReason !== undefined)('NATS JetStream ingest', () => {
  let settings: NatsSettings;
  let publisher: NatsConnection;
  const running: JetStreamIngest[] = [];
  const connections: NatsConnection[] = [];

  beforeEach(async () => {
    // A short ack wait, so that a "crashed" consumer's messages come back within the test.
    settings = uniqueNatsSettings({ LETHE_NATS_ACK_WAIT_SECONDS: '2' });
    publisher = await connectTestNats();
    await ensureNatsTopology(await publisher.jetstreamManager(), settings);
  });

  afterEach(async () => {
    for (const ingest of running.splice(0)) await ingest.stop();
    for (const nc of connections.splice(0)) await nc.close();
    await publisher.close();
    await deleteNatsTopology(settings);
  });

  async function publish(...payloads: (object | string)[]) {
    const js = publisher.jetstream();
    for (const [n, payload] of payloads.entries()) {
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      await js.publish(`${settings.subjects[0]!.replace('>', 'web')}`, body, {
        msgID: `m-${n}-${body.length}`,
      });
    }
  }

  async function startIngest(ingest: StreamIngest, metrics?: Metrics, batchDelayMs = 20) {
    const nc = await connectTestNats();
    connections.push(nc);
    const consumer = new JetStreamIngest(nc, settings, ingest, {
      batchDelayMs,
      retryDelayMs: 200,
      ...(metrics ? { metrics } : {}),
    });
    await consumer.start();
    running.push(consumer);
    return { nc, consumer };
  }

  async function consumerState() {
    const info = await (
      await publisher.jetstreamManager()
    ).consumers.info(settings.stream, settings.consumer);
    return { pending: info.num_pending, unacked: info.num_ack_pending, redelivered: info.num_redelivered };
  }

  async function deadLetters(): Promise<DeadLetter[]> {
    const consumer = await publisher.jetstream().consumers.get(settings.rejectedStream);
    const letters: DeadLetter[] = [];
    const batch = await consumer.fetch({ max_messages: 100, expires: 1_000 });
    for await (const message of batch) letters.push(message.json<DeadLetter>());
    return letters;
  }

  it('stores good events, acks every message after ingest, dead-letters refused ones with their reasons', async () => {
    const log = new ArrayStreamLog();
    const metrics = new Metrics();
    await startIngest(log, metrics);
    await publish(
      envelope(1),
      '{"id": "broken',
      envelope(2),
      { id: 'ev-x', contract: 'no-version', data: {} },
      envelope(3),
    );

    await vi.waitFor(async () => expect(await consumerState()).toMatchObject({ pending: 0, unacked: 0 }), {
      timeout: 20_000,
    });
    expect(log.events.map((event) => event.id)).toEqual(['ev-1', 'ev-2', 'ev-3']);
    expect(log.calls.every((call) => call.principal === NATS_INGEST_PRINCIPAL)).toBe(true);

    const letters = await deadLetters();
    expect(letters).toHaveLength(2);
    const unreadable = letters.find((letter) => letter.payload === '{"id": "broken');
    expect(unreadable?.reasons[0]).toMatchObject({ code: 'INVALID_ENVELOPE', path: '' });
    expect(unreadable?.reasons[0]?.message).toMatch(/not JSON/);
    const refused = letters.find((letter) => letter.id === 'ev-x');
    expect(refused).toMatchObject({ contract: 'no-version', reasons: [{ code: 'INVALID_ENVELOPE' }] });
    expect(JSON.parse(refused!.payload)).toEqual({ id: 'ev-x', contract: 'no-version', data: {} });

    const text = metrics.render();
    expect(text).toContain('lethe_stream_nats_accepted_total 3');
    expect(text).toContain('lethe_stream_nats_rejected_total{code="INVALID_ENVELOPE"} 2');
  });

  it('hands a batch the store could not take back to JetStream (nak), and stores it when it comes again', async () => {
    const log = new ArrayStreamLog();
    const metrics = new Metrics();
    log.failNext(1);
    await startIngest(log, metrics);
    await publish(envelope(1), envelope(2), envelope(3));

    await vi.waitFor(() => expect(log.events).toHaveLength(3), { timeout: 20_000 });
    // The first call threw: nothing was acked, so the same events came back as a second call.
    expect(log.calls.length).toBeGreaterThanOrEqual(2);
    expect(metrics.render()).toContain('lethe_stream_nats_ingest_failures_total 1');
    await vi.waitFor(async () => expect(await consumerState()).toMatchObject({ pending: 0, unacked: 0 }));
    expect((await consumerState()).redelivered).toBe(0); // all acked by now
    expect(await deadLetters()).toEqual([]);
  });

  it('redelivers what a crashed consumer stored but never acked; the restarted one sees duplicates, not new events', async () => {
    const log = new ArrayStreamLog();
    // The "crash": the batch is stored, then the process stops before it can ack.
    let crashed = false;
    const crashing: StreamIngest = {
      async ingest(principal: Principal, envelopes: readonly unknown[]): Promise<StreamIngestResult> {
        await log.ingest(principal, envelopes);
        crashed = true;
        return new Promise<StreamIngestResult>(() => undefined);
      },
    };
    // All ten wait in the stream before the consumer starts, and its batch window is long enough
    // to take them as one batch: the hung batch would hold back any later one.
    await publish(...Array.from({ length: 10 }, (_, n) => envelope(n + 1)));
    const first = await startIngest(crashing, undefined, 500);
    await vi.waitFor(() => expect(log.events).toHaveLength(10), { timeout: 20_000 });
    expect(crashed).toBe(true);
    running.splice(running.indexOf(first.consumer), 1);
    await first.nc.close(); // gone without acking or nak'ing

    const metrics = new Metrics();
    await startIngest(log, metrics);
    // After the ack wait (2 s) JetStream delivers the same messages to the new consumer.
    await vi.waitFor(async () => expect(await consumerState()).toMatchObject({ pending: 0, unacked: 0 }), {
      timeout: 20_000,
      interval: 200,
    });
    expect(log.events.map((event) => event.id)).toEqual(Array.from({ length: 10 }, (_, n) => `ev-${n + 1}`));
    expect(metrics.render()).toContain('lethe_stream_nats_duplicate_total 10');
    expect(metrics.render()).toContain('lethe_stream_nats_accepted_total 0');
  });

  it('shares one durable consumer between nodes: every event stored once', async () => {
    const log = new ArrayStreamLog();
    const perNode: [number, number] = [0, 0];
    const node = (index: 0 | 1): StreamIngest => ({
      async ingest(principal, envelopes) {
        perNode[index] += envelopes.length;
        return log.ingest(principal, envelopes);
      },
    });
    await startIngest(node(0));
    await startIngest(node(1));
    await publish(...Array.from({ length: 300 }, (_, n) => envelope(n + 1)));

    await vi.waitFor(async () => expect(await consumerState()).toMatchObject({ pending: 0, unacked: 0 }), {
      timeout: 20_000,
    });
    expect(new Set(log.events.map((event) => event.id)).size).toBe(300);
    expect(log.events).toHaveLength(300);
    expect(perNode[0] + perNode[1]).toBe(300);
  });

  it('creates its streams and consumer idempotently: a second node starting changes nothing', async () => {
    const jsm = await publisher.jetstreamManager();
    await ensureNatsTopology(jsm, settings);
    await ensureNatsTopology(jsm, settings);
    const info = await jsm.consumers.info(settings.stream, settings.consumer);
    expect(info.config.ack_policy).toBe('explicit');
    expect((await jsm.streams.info(settings.stream)).config.retention).toBe('workqueue');
  });
});

// Only outside CI and only without NATS (in CI `natsAvailability` throws): say why nothing ran.
if (skipReason !== undefined) {
  describe('NATS JetStream ingest', () => {
    it.skip(skipReason, () => undefined);
  });
}
