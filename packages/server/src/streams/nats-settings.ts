import {
  AckPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { AppError } from '../lib/app-error.js';

/**
 * Where privacy streams meet NATS JetStream. `NATS_URL` turns the transport on; every name has a
 * default so that one variable is enough:
 *
 *   NATS_URL=nats://127.0.0.1:4222
 *   LETHE_NATS_STREAM=LETHE_EVENTS            events published by services…
 *   LETHE_NATS_SUBJECTS=lethe.events.>        …on these subjects (comma-separated)
 *   LETHE_NATS_CONSUMER=lethe-stream-ingest   the durable consumer every node shares
 *   LETHE_NATS_REJECTED_STREAM=LETHE_REJECTED dead letters: refused events with their reasons…
 *   LETHE_NATS_REJECTED_PREFIX=lethe.rejected …on `<prefix>.<contract>`
 *   LETHE_NATS_USAGE_STREAM=LETHE_USAGE       usage telemetry (docs/telemetry.md)…
 *   LETHE_NATS_USAGE_SUBJECTS=lethe.usage.>   …on `lethe.usage.<system>`
 *   LETHE_NATS_USAGE_CONSUMER=lethe-usage-ingest       its durable consumer, shared by nodes
 *   LETHE_NATS_USAGE_REJECTED_PREFIX=lethe.usage-rejected refused usage events, in the dead-letter stream
 *   LETHE_NATS_EXPORT_STREAM=LETHE_EXPORTS    real-time exports…
 *   LETHE_NATS_EXPORT_SUBJECTS=lethe.exports.> …publish under these subjects
 *   LETHE_NATS_DUPLICATE_WINDOW_SECONDS=600   how long JetStream remembers a Nats-Msg-Id
 *   LETHE_NATS_ACK_WAIT_SECONDS=30            redelivery of an ingest message left unacked
 */
export interface NatsSettings {
  readonly url: string;
  readonly stream: string;
  readonly subjects: readonly string[];
  readonly consumer: string;
  readonly rejectedStream: string;
  readonly rejectedPrefix: string;
  readonly usageStream: string;
  readonly usageSubjects: readonly string[];
  readonly usageConsumer: string;
  readonly usageRejectedPrefix: string;
  readonly exportStream: string;
  readonly exportSubjects: readonly string[];
  readonly duplicateWindowMs: number;
  /** How long JetStream waits for an ack before it delivers an ingest message again. */
  readonly ackWaitMs: number;
}

const DEFAULT_DUPLICATE_WINDOW_SECONDS = 600;
const DEFAULT_ACK_WAIT_SECONDS = 30;
/** Dead letters hold the refused event as sent (personal data in clear): kept a week, then gone. */
const REJECTED_MAX_AGE_MS = 7 * 24 * 3_600_000;

/** The settings from the environment; undefined when `NATS_URL` is not set (NATS is off). */
export function natsSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): NatsSettings | undefined {
  const url = env['NATS_URL'];
  if (url === undefined || url === '') return undefined;
  const list = (value: string | undefined, fallback: string) =>
    (value ?? fallback)
      .split(',')
      .map((subject) => subject.trim())
      .filter((subject) => subject !== '');
  const seconds = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`${name} must be a positive number of seconds`);
    return value * 1000;
  };
  return {
    url,
    stream: env['LETHE_NATS_STREAM'] ?? 'LETHE_EVENTS',
    subjects: list(env['LETHE_NATS_SUBJECTS'], 'lethe.events.>'),
    consumer: env['LETHE_NATS_CONSUMER'] ?? 'lethe-stream-ingest',
    rejectedStream: env['LETHE_NATS_REJECTED_STREAM'] ?? 'LETHE_REJECTED',
    rejectedPrefix: env['LETHE_NATS_REJECTED_PREFIX'] ?? 'lethe.rejected',
    usageStream: env['LETHE_NATS_USAGE_STREAM'] ?? 'LETHE_USAGE',
    usageSubjects: list(env['LETHE_NATS_USAGE_SUBJECTS'], 'lethe.usage.>'),
    usageConsumer: env['LETHE_NATS_USAGE_CONSUMER'] ?? 'lethe-usage-ingest',
    usageRejectedPrefix: env['LETHE_NATS_USAGE_REJECTED_PREFIX'] ?? 'lethe.usage-rejected',
    exportStream: env['LETHE_NATS_EXPORT_STREAM'] ?? 'LETHE_EXPORTS',
    exportSubjects: list(env['LETHE_NATS_EXPORT_SUBJECTS'], 'lethe.exports.>'),
    duplicateWindowMs: seconds('LETHE_NATS_DUPLICATE_WINDOW_SECONDS', DEFAULT_DUPLICATE_WINDOW_SECONDS),
    ackWaitMs: seconds('LETHE_NATS_ACK_WAIT_SECONDS', DEFAULT_ACK_WAIT_SECONDS),
  };
}

/** Unacked messages the ingest consumer may hold across all nodes: bounds each node's memory. */
export const INGEST_MAX_ACK_PENDING = 5_000;

/**
 * Creates or updates the streams and the durable ingest consumer. Idempotent, and safe when
 * several nodes start at once: an identical `add` is a no-op in JetStream, and a stream or
 * consumer whose settings differ is updated to these.
 */
export async function ensureNatsTopology(jsm: JetStreamManager, settings: NatsSettings): Promise<void> {
  const duplicateWindow = nanos(settings.duplicateWindowMs);
  // A work queue: an acked event leaves NATS, so the clear-text copy does not outlive its ingest
  // (Lethe keeps the encrypted one).
  await ensureStream(jsm, {
    name: settings.stream,
    subjects: [...settings.subjects],
    retention: RetentionPolicy.Workqueue,
    duplicate_window: duplicateWindow,
  });
  await ensureStream(jsm, {
    name: settings.usageStream,
    subjects: [...settings.usageSubjects],
    retention: RetentionPolicy.Workqueue,
    duplicate_window: duplicateWindow,
  });
  await ensureStream(jsm, {
    name: settings.rejectedStream,
    subjects: [`${settings.rejectedPrefix}.>`, `${settings.usageRejectedPrefix}.>`],
    duplicate_window: duplicateWindow,
    max_age: nanos(REJECTED_MAX_AGE_MS),
  });
  await ensureStream(jsm, {
    name: settings.exportStream,
    subjects: [...settings.exportSubjects],
    duplicate_window: duplicateWindow,
  });
  await ensureConsumer(jsm, settings.stream, settings.consumer, settings.ackWaitMs);
  await ensureConsumer(jsm, settings.usageStream, settings.usageConsumer, settings.ackWaitMs);
}

async function ensureConsumer(jsm: JetStreamManager, stream: string, name: string, ackWaitMs: number) {
  const consumer = {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: INGEST_MAX_ACK_PENDING,
  };
  try {
    await jsm.consumers.info(stream, name);
    await jsm.consumers.update(stream, name, {
      ack_wait: consumer.ack_wait,
      max_ack_pending: consumer.max_ack_pending,
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(stream, consumer);
  }
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }) {
  try {
    await jsm.streams.add(config);
  } catch (error) {
    // "stream name already in use with a different configuration": bring it to ours.
    if (!(error instanceof JetStreamApiError) || error.code !== STREAM_NAME_IN_USE) throw error;
    const { name, ...update } = config;
    await jsm.streams.update(name, update);
  }
}

/** JetStream's error code for a stream added under a taken name with other settings. */
const STREAM_NAME_IN_USE = 10058;

/** The stream or the consumer does not exist (JetStream answers 404 for either). */
function isNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.status === 404;
}

/**
 * Whether a JetStream stream captures `subject` (the lookup by subject answers "no stream matches
 * subject" when none does); any other failure means NATS could not be asked.
 */
export async function isSubjectCaptured(nats: NatsConnection, subject: string): Promise<boolean> {
  try {
    await (await jetstreamManager(nats)).streams.find(subject);
    return true;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return false;
    throw new AppError(
      'UNAVAILABLE',
      'NATS could not say which stream captures the subject; retry.',
      undefined,
      {
        cause: error,
      },
    );
  }
}
