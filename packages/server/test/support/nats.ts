import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsSettingsFromEnv, type NatsSettings } from '../../src/streams/nats-settings.js';

/**
 * A real NATS JetStream server for transport tests (127.0.0.1:4222 unless LETHE_TEST_NATS_URL).
 * Required in CI (CI=true); elsewhere an unreachable server skips the tests, with a message.
 */
export const TEST_NATS_URL = process.env['LETHE_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** Undefined when NATS JetStream answers; otherwise why the tests are skipped (throws in CI). */
export async function natsAvailability(): Promise<string | undefined> {
  try {
    const nc = await connect({ servers: TEST_NATS_URL, timeout: 2_000, reconnect: false });
    try {
      await jetstreamManager(nc);
    } finally {
      await nc.close();
    }
    return undefined;
  } catch (error) {
    if (process.env['CI'] === 'true') {
      throw new Error(
        `NATS JetStream is required in CI but not reachable at ${TEST_NATS_URL}: ${String(error)}`,
      );
    }
    const reason =
      `NATS JetStream not reachable at ${TEST_NATS_URL} (${String(error)}): the NATS transport tests are ` +
      'SKIPPED. Start nats-server -js or set LETHE_TEST_NATS_URL.';
    console.warn(`\n[lethe tests] ${reason}\n`);
    return reason;
  }
}

/**
 * Settings whose stream, subject and consumer names are unique to one test, so runs (and other
 * engineers' runs on the same server) never see each other's messages.
 */
export function uniqueNatsSettings(overrides: NodeJS.ProcessEnv = {}): NatsSettings {
  const settings = natsSettingsFromEnv(uniqueNatsEnv(overrides));
  if (!settings) throw new Error('unreachable: NATS_URL is set');
  return settings;
}

/** The environment that `uniqueNatsSettings` reads, for a whole server (`createLethe({ env })`). */
export function uniqueNatsEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const run = `t${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  return {
    NATS_URL: TEST_NATS_URL,
    LETHE_NATS_STREAM: `LETHE_EVENTS_${run}`,
    LETHE_NATS_SUBJECTS: `lethe.${run}.events.>`,
    LETHE_NATS_CONSUMER: `ingest_${run}`,
    LETHE_NATS_REJECTED_STREAM: `LETHE_REJECTED_${run}`,
    LETHE_NATS_REJECTED_PREFIX: `lethe.${run}.rejected`,
    LETHE_NATS_USAGE_STREAM: `LETHE_USAGE_${run}`,
    LETHE_NATS_USAGE_SUBJECTS: `lethe.${run}.usage.>`,
    LETHE_NATS_USAGE_CONSUMER: `usage_${run}`,
    LETHE_NATS_USAGE_REJECTED_PREFIX: `lethe.${run}.usage-rejected`,
    LETHE_NATS_EXPORT_STREAM: `LETHE_EXPORTS_${run}`,
    LETHE_NATS_EXPORT_SUBJECTS: `lethe.${run}.exports.>`,
    ...overrides,
  };
}

export function connectTestNats(): Promise<NatsConnection> {
  return connect({ servers: TEST_NATS_URL, timeout: 2_000 });
}

/** Deletes the streams of `settings` (and with them the consumer); missing ones are fine. */
export async function deleteNatsTopology(settings: NatsSettings): Promise<void> {
  const nc = await connectTestNats();
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of [
      settings.stream,
      settings.usageStream,
      settings.rejectedStream,
      settings.exportStream,
    ]) {
      await jsm.streams.delete(stream).catch(() => false);
    }
  } finally {
    await nc.close();
  }
}
