import { jetstream, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** A dead letter to publish, durably, before the message it comes from is settled. */
export interface DeadLetterOut {
  readonly subject: string;
  /** Its Nats-Msg-Id: a redelivered message must not leave the same dead letter twice. */
  readonly msgID: string;
  readonly body: string;
  /** The first reason's code (for the metric). */
  readonly code: string;
}

/** What a handler did with a batch it stored: messages not named here are acked. */
export interface BatchVerdict {
  /** The dead letters each message leaves (a message of many events may leave several). */
  readonly letters: ReadonlyMap<JsMsg, readonly DeadLetterOut[]>;
  /** Messages refused as a whole: terminated once their letters are stored, rather than acked. */
  readonly refused: ReadonlySet<JsMsg>;
}

/**
 * Stores a batch and says what became of each message. Throwing means nothing of the batch may be
 * counted on: every message is handed back (nak) and comes again, to this node or another.
 */
export type BatchHandler = (batch: readonly JsMsg[]) => Promise<BatchVerdict>;

export interface JetStreamBatchOptions {
  readonly stream: string;
  readonly consumer: string;
  /** The consumer's ack wait: how long `stop` lets a batch being stored finish. */
  readonly ackWaitMs: number;
  /** Most messages handed to one call (default 500). */
  readonly batchSize?: number;
  /**
   * Most bytes of message data in one batch (default 4 MiB): a batch of large messages (many
   * events each) stays short enough to be stored well within the ack wait.
   */
  readonly maxBatchBytes?: number;
  /** How long the first message of a batch waits for others to join it (default 100 ms). */
  readonly batchDelayMs?: number;
  /**
   * Batches stored at once (default 1: in arrival order). More overlap one batch's validation
   * with another's commit, for handlers to which order does not matter.
   */
  readonly concurrency?: number;
  /** After a failed batch, when JetStream delivers it again (default 2 s). */
  readonly retryDelayMs?: number;
  /** A batch the handler could not store (it will be redelivered). */
  readonly onFailure?: (error: unknown) => void;
  /** A dead letter stored in JetStream. */
  readonly onDeadLetter?: (letter: DeadLetterOut) => void;
  readonly log?: (message: string, error?: unknown) => void;
}

/**
 * A durable JetStream pull consumer shared by every node (JetStream spreads the messages over
 * them) that hands messages to a handler in batches and acks a message only once the handler has
 * stored its batch, so a crash at any point redelivers it: at least once, and the handlers dedupe.
 * A refused message's dead letters are published and stored by JetStream before the message is
 * settled, so nothing is silently lost. Used by the privacy-stream and the usage ingest.
 */
export class JetStreamBatches {
  private readonly batchSize: number;
  private readonly batchDelayMs: number;
  private readonly retryDelayMs: number;
  private readonly concurrency: number;
  private messages: ConsumerMessages | undefined;
  private readonly maxBatchBytes: number;
  private pending: JsMsg[] = [];
  private pendingBytes = 0;
  /** Batches being stored. */
  private readonly inFlight = new Set<readonly JsMsg[]>();
  private heartbeat: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly flushing = new Set<Promise<void>>();
  private stopped = false;
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly handler: BatchHandler,
    private readonly options: JetStreamBatchOptions,
  ) {
    this.js = jetstream(nc);
    this.batchSize = options.batchSize ?? 500;
    this.batchDelayMs = options.batchDelayMs ?? 100;
    this.retryDelayMs = options.retryDelayMs ?? 2_000;
    this.concurrency = options.concurrency ?? 1;
    this.maxBatchBytes = options.maxBatchBytes ?? 4 * 2 ** 20;
  }

  async start(): Promise<void> {
    const consumer = await this.js.consumers.get(this.options.stream, this.options.consumer);
    // A callback, not an iterator: messages keep arriving while a batch is being stored, and
    // the server's max_ack_pending bounds how many are held unacked.
    // Messages wait here (buffered, or in a batch being stored) while their ack wait runs; a
    // backlog of large messages could outlast it and be delivered again to another node, so each
    // held message tells JetStream it is being worked on, three times per ack wait.
    this.heartbeat = setInterval(() => this.keepAlive(), Math.max(1_000, this.options.ackWaitMs / 3));
    this.heartbeat.unref();
    this.messages = await consumer.consume({
      max_messages: this.batchSize * (this.concurrency + 1),
      callback: (message) => this.receive(message),
    });
  }

  /**
   * Stops pulling, lets the batches being stored finish (and ack), hands back the rest at once. A
   * batch that does not finish within the ack wait is left: JetStream delivers it again anyway.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    await this.messages?.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.flushing),
      new Promise((resolve) => (timer = setTimeout(resolve, this.options.ackWaitMs))),
    ]);
    clearTimeout(timer);
    this.pendingBytes = 0;
    for (const message of this.pending.splice(0)) message.nak();
  }

  private receive(message: JsMsg): void {
    if (this.stopped) {
      message.nak();
      return;
    }
    this.pending.push(message);
    this.pendingBytes += message.data.length;
    if (this.full()) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.batchDelayMs);
  }

  /** Up to `concurrency` batches at a time, taken in arrival order; later messages wait their turn. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing.size < this.concurrency && this.pending.length > 0) {
      const batch = this.take();
      this.inFlight.add(batch);
      const flushing: Promise<void> = this.store(batch)
        .catch((error: unknown) => this.options.log?.('NATS ingest failed', error))
        .finally(() => {
          this.flushing.delete(flushing);
          this.inFlight.delete(batch);
          if (this.full()) this.flush();
          else if (this.pending.length > 0) this.timer ??= setTimeout(() => this.flush(), this.batchDelayMs);
        });
      this.flushing.add(flushing);
      // A partial batch is taken only when its window is over (the timer), not eagerly.
      if (!this.full()) break;
    }
  }

  private keepAlive(): void {
    for (const message of this.pending) message.working();
    for (const batch of this.inFlight) for (const message of batch) message.working();
  }

  /** Whether a whole batch waits: by count or by bytes. */
  private full(): boolean {
    return this.pending.length >= this.batchSize || this.pendingBytes >= this.maxBatchBytes;
  }

  /** The next batch: the oldest messages, up to the count and the bytes (at least one). */
  private take(): JsMsg[] {
    let count = 0;
    let bytes = 0;
    while (count < this.pending.length && count < this.batchSize) {
      const size = this.pending[count]!.data.length;
      if (count > 0 && bytes + size > this.maxBatchBytes) break;
      bytes += size;
      count += 1;
    }
    this.pendingBytes -= bytes;
    return this.pending.splice(0, count);
  }

  private async store(batch: JsMsg[]): Promise<void> {
    let verdict: BatchVerdict;
    try {
      verdict = await this.handler(batch);
    } catch (error) {
      // Not stored: every message comes back after the delay, to this or another node.
      this.options.onFailure?.(error);
      this.options.log?.('NATS ingest: the batch was not stored; it will be redelivered', error);
      for (const message of batch) message.nak(this.retryDelayMs);
      return;
    }
    for (const message of batch) if (!verdict.letters.has(message)) message.ack();
    await Promise.all(
      [...verdict.letters].map(([message, letters]) => this.settle(message, letters, verdict)),
    );
  }

  /**
   * Publishes a message's dead letters and waits for JetStream to store them before settling it;
   * a crash in between redelivers the message, and each letter's Nats-Msg-Id keeps it from being
   * stored twice. A letter that cannot be published hands the message back.
   */
  private async settle(message: JsMsg, letters: readonly DeadLetterOut[], verdict: BatchVerdict) {
    try {
      for (const letter of letters) {
        await this.js.publish(letter.subject, letter.body, { msgID: letter.msgID });
        this.options.onDeadLetter?.(letter);
      }
      if (verdict.refused.has(message)) message.term();
      else message.ack();
    } catch (error) {
      this.options.log?.('NATS ingest: a dead letter could not be published', error);
      message.nak(this.retryDelayMs);
    }
  }
}
