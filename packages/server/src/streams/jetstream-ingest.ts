import type { StreamEventRejection, StreamIngestResult } from '@lethe/api';
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamBatches, type BatchVerdict, type DeadLetterOut } from '../lib/jetstream-batches.js';
import type { Metrics } from '../http/metrics.js';
import type { Principal } from '../auth/principal.js';
import type { NatsSettings } from './nats-settings.js';
import type { StreamIngest } from './stream-log.js';

/**
 * Who the NATS ingest acts as: a service of its own, holding `streams:publish` like any service
 * that publishes stream events over HTTP. The subject's consent travels in each envelope.
 */
export const NATS_INGEST_PRINCIPAL: Principal = { id: 'nats-ingest', role: 'service' };

export interface JetStreamIngestOptions {
  /** Most events handed to one `ingest` call (default 500). */
  readonly batchSize?: number;
  /** How long the first message of a batch waits for others to join it (default 100 ms). */
  readonly batchDelayMs?: number;
  /** After an ingest failure (store down), when JetStream delivers the batch again (default 2 s). */
  readonly retryDelayMs?: number;
  readonly metrics?: Metrics;
  readonly log?: (message: string, error?: unknown) => void;
}

const UTF8 = new TextDecoder();

/** A dead letter: the refused event as it was sent, and every reason it was refused. */
export interface DeadLetter {
  readonly subject: string;
  /** Its position in the ingest stream, unique: the dead letter's Nats-Msg-Id. */
  readonly streamSeq: number;
  readonly id?: string;
  readonly contract?: string;
  readonly reasons: StreamEventRejection[];
  /** The message body as received (UTF-8). */
  readonly payload: string;
}

/**
 * The JetStream ingest: a handler of the shared durable consumer (`JetStreamBatches`) that hands
 * batches to `StreamIngest`; a message is acked only once its batch is stored (ingest dedupes on
 * the event id). A refused event is published with its reasons to `<rejectedPrefix>.<contract>`,
 * durably, and only then terminated. When the store fails the whole batch comes back.
 */
export class JetStreamIngest {
  private readonly consumer: JetStreamBatches;

  constructor(
    nc: NatsConnection,
    private readonly settings: NatsSettings,
    private readonly ingest: StreamIngest,
    private readonly options: JetStreamIngestOptions = {},
  ) {
    this.consumer = new JetStreamBatches(nc, (batch) => this.store(batch), {
      stream: settings.stream,
      consumer: settings.consumer,
      ackWaitMs: settings.ackWaitMs,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.batchDelayMs !== undefined ? { batchDelayMs: options.batchDelayMs } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      onFailure: () => options.metrics?.natsStreamIngestFailures.inc(),
      onDeadLetter: (letter) => options.metrics?.natsStreamRejected.inc({ code: letter.code }),
      ...(options.log ? { log: options.log } : {}),
    });
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  /** Stops pulling; the batch being stored finishes (see `JetStreamBatches.stop`). */
  stop(): Promise<void> {
    return this.consumer.stop();
  }

  private async store(batch: readonly JsMsg[]): Promise<BatchVerdict> {
    // Parallel arrays: the envelopes handed to ingest, and the message and text of each.
    const envelopes: unknown[] = [];
    const sources: JsMsg[] = [];
    const texts: string[] = [];
    const refused = new Map<JsMsg, DeadLetter>();
    for (const message of batch) {
      const text = UTF8.decode(message.data);
      try {
        envelopes.push(JSON.parse(text));
        sources.push(message);
        texts.push(text);
      } catch (error) {
        const reason = `the message is not JSON: ${(error as Error).message}`;
        refused.set(
          message,
          deadLetter(message, text, undefined, [{ code: 'INVALID_ENVELOPE', path: '', message: reason }]),
        );
      }
    }
    if (envelopes.length > 0) {
      // A throw (the store is down) hands every message back; JetStreamBatches counts it.
      const result: StreamIngestResult = await this.ingest.ingest(NATS_INGEST_PRINCIPAL, envelopes);
      for (const rejection of result.rejected) {
        const message = sources[rejection.index];
        if (!message) continue;
        const envelope = envelopes[rejection.index] as { contract?: unknown } | null;
        const contract = typeof envelope?.contract === 'string' ? envelope.contract : undefined;
        refused.set(
          message,
          deadLetter(message, texts[rejection.index]!, contract, rejection.reasons, rejection.id),
        );
      }
      this.options.metrics?.natsStreamAccepted.inc({}, result.accepted);
      this.options.metrics?.natsStreamDuplicate.inc({}, result.duplicates);
    }
    const letters = new Map<JsMsg, DeadLetterOut[]>();
    for (const [message, letter] of refused) {
      letters.set(message, [
        {
          subject: `${this.settings.rejectedPrefix}.${subjectToken(letter.contract)}`,
          msgID: `rejected:${this.settings.stream}:${letter.streamSeq}`,
          body: JSON.stringify(letter),
          code: letter.reasons[0]?.code ?? 'UNKNOWN',
        },
      ]);
    }
    return { letters, refused: new Set(refused.keys()) };
  }
}

function deadLetter(
  message: JsMsg,
  payload: string,
  contract: string | undefined,
  reasons: StreamEventRejection[],
  id?: string,
): DeadLetter {
  return {
    subject: message.subject,
    streamSeq: message.seq,
    ...(id !== undefined ? { id } : {}),
    ...(contract !== undefined ? { contract } : {}),
    reasons,
    payload,
  };
}

/**
 * One subject token for a contract named in an envelope, which may be anything: characters
 * NATS gives a meaning to (`.`, `*`, `>`, whitespace) become `_`; no contract is `unknown`.
 */
export function subjectToken(contract: string | undefined): string {
  if (contract === undefined || contract === '') return 'unknown';
  return contract.replace(/[^A-Za-z0-9@_-]/g, '_');
}
