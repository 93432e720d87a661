import type { StreamEventRejection, StreamIngestResult } from '@lethe/api';
import { type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
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
 * The JetStream ingest: pulls from the durable consumer every node shares (JetStream spreads the
 * messages over them), hands batches to `StreamIngest` and acks a message only once its batch is
 * stored, so a crash at any point redelivers it (at least once; ingest dedupes on the event id).
 * A refused event is published with its reasons to `<rejectedPrefix>.<contract>`, durably, and
 * only then terminated, so it is never silently lost. When the store fails the whole batch is
 * nak'ed with a delay and comes back.
 */
export class JetStreamIngest {
  private readonly batchSize: number;
  private readonly batchDelayMs: number;
  private readonly retryDelayMs: number;
  private messages: ConsumerMessages | undefined;
  private pending: JsMsg[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly settings: NatsSettings,
    private readonly ingest: StreamIngest,
    private readonly options: JetStreamIngestOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.batchDelayMs = options.batchDelayMs ?? 100;
    this.retryDelayMs = options.retryDelayMs ?? 2_000;
  }

  async start(): Promise<void> {
    const consumer = await this.nc.jetstream().consumers.get(this.settings.stream, this.settings.consumer);
    // A callback, not an iterator: messages keep arriving while a batch is being stored, and
    // the server's max_ack_pending bounds how many are held unacked.
    this.messages = await consumer.consume({
      max_messages: this.batchSize * 2,
      callback: (message) => this.receive(message),
    });
  }

  /**
   * Stops pulling, lets the batch being stored finish (and ack), hands back the rest at once. A
   * batch that does not finish within the ack wait is left: JetStream delivers it again anyway.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.messages?.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flushing,
      new Promise((resolve) => (timer = setTimeout(resolve, this.settings.ackWaitMs))),
    ]);
    clearTimeout(timer);
    for (const message of this.pending.splice(0)) message.nak();
  }

  private receive(message: JsMsg): void {
    if (this.stopped) {
      message.nak();
      return;
    }
    this.pending.push(message);
    if (this.pending.length >= this.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.batchDelayMs);
  }

  /** One batch at a time, in arrival order; messages that come meanwhile wait for the next. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.batchSize);
    this.flushing = this.store(batch)
      .catch((error: unknown) => this.options.log?.('NATS stream ingest failed', error))
      .finally(() => {
        this.flushing = undefined;
        if (this.pending.length >= this.batchSize) this.flush();
        else if (this.pending.length > 0) this.timer ??= setTimeout(() => this.flush(), this.batchDelayMs);
      });
  }

  private async store(batch: JsMsg[]): Promise<void> {
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
      let result: StreamIngestResult;
      try {
        result = await this.ingest.ingest(NATS_INGEST_PRINCIPAL, envelopes);
      } catch (error) {
        // Not stored: every readable message comes back after the delay, to this or another node.
        this.options.metrics?.natsStreamIngestFailures.inc();
        this.options.log?.('NATS stream ingest: the batch was not stored; it will be redelivered', error);
        for (const message of sources) message.nak(this.retryDelayMs);
        await this.deadLetter(refused);
        return;
      }
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
      for (const message of sources) if (!refused.has(message)) message.ack();
    }
    await this.deadLetter(refused);
  }

  /**
   * Publishes each refused event to the dead-letter subject and waits for JetStream to store it
   * before terminating the original; a crash in between redelivers the original, and the dead
   * letter's Nats-Msg-Id (its stream position) keeps it from being stored twice.
   */
  private async deadLetter(refused: Map<JsMsg, DeadLetter>): Promise<void> {
    const js = this.nc.jetstream();
    await Promise.all(
      [...refused].map(async ([message, letter]) => {
        try {
          await js.publish(
            `${this.settings.rejectedPrefix}.${subjectToken(letter.contract)}`,
            JSON.stringify(letter),
            { msgID: `rejected:${this.settings.stream}:${letter.streamSeq}` },
          );
          message.term();
          this.options.metrics?.natsStreamRejected.inc({ code: letter.reasons[0]?.code ?? 'UNKNOWN' });
        } catch (error) {
          this.options.log?.('NATS stream ingest: a dead letter could not be published', error);
          message.nak(this.retryDelayMs);
        }
      }),
    );
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
