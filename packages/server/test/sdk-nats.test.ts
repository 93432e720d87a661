import { jetstream } from '@nats-io/jetstream';
import { Publisher, type JetStreamLike } from '@lethe/client';
import type { SubjectRetention } from '@lethe/api';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { natsSettingsFromEnv, type NatsSettings } from '../src/streams/nats-settings.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { loadFixtures } from './support/fixtures.js';
import { connectTestNats, deleteNatsTopology, natsAvailability, uniqueNatsEnv } from './support/nats.js';

/** The SDK's Publisher with `transport: 'nats'`, into a real Lethe node through JetStream. */

const skipReason = await natsAvailability();

describe.skipIf(skipReason !== undefined)("Publisher over NATS (transport: 'nats')", () => {
  let env: NodeJS.ProcessEnv;
  let settings: NatsSettings;
  let location: Awaited<ReturnType<typeof SQLITE_BACKEND.create>>;
  let lethe: Lethe;
  let nc: NatsConnection;

  beforeAll(async () => {
    env = uniqueNatsEnv();
    settings = natsSettingsFromEnv(env)!;
    location = await SQLITE_BACKEND.create({ migrated: true });
    lethe = await createLethe({ ...location, env, rateLimit: false });
    await loadFixtures(lethe.services);
    nc = await connectTestNats();
  });
  afterAll(async () => {
    await lethe.close();
    await nc.close();
    await deleteNatsTopology(settings);
    await location.dispose();
  });

  it('publishes through JetStream; a batch retried after a lost ack counts once', async () => {
    const token = (
      await lethe.tokens.mint({
        subject: 'svc-accounts',
        role: 'service',
        system: 'accounts',
        ttlSeconds: 600,
      })
    ).token;
    const js = jetstream(nc);
    // What users hand the SDK: the v3 client itself fits the target's interface.
    const direct: JetStreamLike = js;
    let attempts = 0;
    const publisher = new Publisher({
      transport: 'nats',
      nats: {
        // The first publish "fails" after JetStream stored it (a lost ack): the Publisher retries.
        jetstream: {
          async publish(subject, data, options) {
            attempts += 1;
            const ack = await direct.publish(subject, data, options);
            if (attempts === 1) throw new Error('the ack was lost');
            return ack;
          },
        },
        token: () => token,
        subjectPrefix: settings.usageSubjects[0]!.replace(/\.>$/, ''),
      },
      maxBatchSize: 100,
      retry: { baseDelayMs: 10 },
    });
    for (let n = 0; n < 250; n += 1) {
      publisher.publish({
        subject: `sdk-${n % 10}`,
        system: 'accounts',
        policy: 'user-account-access',
        fields: ['accounts.email'],
      });
    }
    const { unsent } = await publisher.close({ timeoutMs: 10_000 });
    expect(unsent).toBe(0);
    expect(attempts).toBeGreaterThan(3);
    const admin = (await lethe.tokens.mint({ subject: 'test-admin', role: 'admin', ttlSeconds: 600 })).token;
    const uses = async (subject: string) => {
      const response = await lethe.app.inject({
        method: 'GET',
        url: `/v1/subjects/${subject}`,
        headers: { authorization: `Bearer ${admin}` },
      });
      if (response.statusCode === 404) return 0;
      const view = response.json<SubjectRetention>();
      return view.fields.flatMap((field) => field.uses).reduce((sum, use) => sum + use.count, 0);
    };
    await vi.waitFor(
      async () =>
        expect(await Promise.all(Array.from({ length: 10 }, (_, n) => uses(`sdk-${n}`)))).toEqual(
          Array(10).fill(25),
        ),
      { timeout: 20_000, interval: 200 },
    );
  });
});

if (skipReason !== undefined) {
  describe("Publisher over NATS (transport: 'nats')", () => {
    // Skipped because NATS JetStream is not reachable and this is not CI; the test's name is that reason.
    it.skip(skipReason, () => undefined);
  });
}
