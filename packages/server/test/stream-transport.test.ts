import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { readManifest } from '../src/streams/export-manifest.js';
import { natsSettingsFromEnv, type NatsSettings } from '../src/streams/nats-settings.js';
import type { ViewedStreamEvent } from '../src/streams/stream-log.js';
import { ArrayStreamLog } from './support/array-stream-log.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { connectTestNats, deleteNatsTopology, natsAvailability, uniqueNatsEnv } from './support/nats.js';

/**
 * The transport wired by `createLethe` with `NATS_URL`: events published to NATS come in through
 * the JetStream consumer and go out through a file export and a NATS export, and a restart of the
 * server in the middle of the flow leaves both exports complete and without duplicates. The
 * stream is the `ArrayStreamLog` fixture, kept across the restart as the store would be.
 */

const skipReason = await natsAvailability();

describe.skipIf(skipReason !== undefined)('NATS in, file and NATS out, across a restart', () => {
  let env: NodeJS.ProcessEnv;
  let settings: NatsSettings;
  let location: Awaited<ReturnType<typeof SQLITE_BACKEND.create>>;
  let publisher: NatsConnection;
  const log = new ArrayStreamLog();
  let lethe: Lethe | undefined;

  beforeAll(async () => {
    env = uniqueNatsEnv();
    settings = natsSettingsFromEnv(env)!;
    location = await SQLITE_BACKEND.create();
    publisher = await connectTestNats();
  });

  afterAll(async () => {
    await lethe?.close();
    await publisher.close();
    await deleteNatsTopology(settings);
    await location.dispose();
  });

  const start = () =>
    createLethe({ ...location, env, streamIngest: log, streamReader: log, streamHead: () => log.headSeq() });

  async function publish(from: number, to: number) {
    const js = publisher.jetstream();
    const subject = settings.subjects[0]!.replace('>', 'web');
    await Promise.all(
      Array.from({ length: to - from + 1 }, (_, n) =>
        js.publish(
          subject,
          JSON.stringify({
            id: `ev-${from + n}`,
            contract: 'clicks@1',
            consent: ['essential'],
            data: { n: from + n },
          }),
          { msgID: `ev-${from + n}` },
        ),
      ),
    );
  }

  it('exports every event once to files and to NATS', async () => {
    lethe = await start();
    const token = (await lethe.tokens.mint({ subject: 'admin', role: 'admin', ttlSeconds: 600 })).token;
    const put = (name: string, body: object) =>
      lethe!.app.inject({
        method: 'PUT',
        url: `/v1/stream-exports/${name}`,
        headers: { authorization: `Bearer ${token}` },
        payload: body,
      });
    const exportSubject = settings.exportSubjects[0]!.replace('>', 'live');
    expect(
      (await put('files', { target: 'file', file: { maxAgeSeconds: 1, maxBytes: 4096 } })).statusCode,
    ).toBe(201);
    expect((await put('live', { target: 'nats', nats: { subject: exportSubject } })).statusCode).toBe(201);

    await publish(1, 300);
    await vi.waitFor(() => expect(log.events.length).toBeGreaterThan(100), { timeout: 10_000, interval: 5 });
    await lethe.close(); // mid-flow: some events in, some exported, some not
    lethe = undefined;
    await publish(301, 400);
    lethe = await start();

    const expected = Array.from({ length: 400 }, (_, n) => `ev-${n + 1}`);
    await vi.waitFor(() => expect(log.events).toHaveLength(400), { timeout: 20_000, interval: 50 });
    expect(new Set(log.events.map((event) => event.id))).toEqual(new Set(expected));

    // The file export: every event in exactly one listed part.
    const dir = join(location.dataDir, 'exports', 'files');
    await vi.waitFor(async () => expect((await readManifest(dir, 'files')).position).toBe(400), {
      timeout: 20_000,
      interval: 100,
    });
    const lines = (await readManifest(dir, 'files')).parts.flatMap((part) =>
      readFileSync(join(dir, part.name), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as ViewedStreamEvent).id),
    );
    expect(lines).toEqual(log.events.map((event) => event.id));

    // The NATS export: every event once, in stream order.
    const jsm = await publisher.jetstreamManager();
    await vi.waitFor(
      async () => expect((await jsm.streams.info(settings.exportStream)).state.messages).toBe(400),
      {
        timeout: 20_000,
        interval: 100,
      },
    );
    const consumer = await publisher.jetstream().consumers.get(settings.exportStream);
    const published: string[] = [];
    const messages = await consumer.fetch({ max_messages: 400, expires: 2_000 });
    for await (const message of messages) published.push(message.json<ViewedStreamEvent>().id);
    expect(published).toEqual(log.events.map((event) => event.id));

    const metrics = await lethe.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/lethe_stream_nats_accepted_total \d+/);
  });
});

if (skipReason !== undefined) {
  describe('NATS in, file and NATS out, across a restart', () => {
    it.skip(skipReason, () => undefined);
  });
}
