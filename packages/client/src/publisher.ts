import { backoffDelay } from './backoff.js';
import type { EventRejection, IngestResult, UsageEvent } from '@lethe/api';
import { LetheApiError } from './api-error.js';
import type { LetheClient } from './client.js';
import { EventQueue } from './event-queue.js';
import { natsSend, type NatsTarget } from './nats-transport.js';

/** A usage event as the caller hands it over: `id` and `at` are filled in when missing. */
export type PublishableEvent = Omit<UsageEvent, 'id' | 'at'> & { id?: string; at?: Date | string };

/**
 * Sends one batch. Throw a {@link LetheApiError} to say whether the failure is worth a retry
 * (status 0, 429, 5xx) or not; any other thrown value is treated as a transient failure.
 */
export type SendBatch = (events: UsageEvent[], signal: AbortSignal) => Promise<IngestResult>;

/**
 * Why events were given up: `overflow` (the buffer was full), `failed` (the server refused the
 * batch with a non-retryable error), `closed` (still unsent at the close deadline, or published
 * after close).
 */
export type DropReason = 'overflow' | 'failed' | 'closed';

/** A per-event rejection from the server, with the event it refers to. */
export interface RejectedEvent extends EventRejection {
  event: UsageEvent;
}

export interface SendFailure {
  events: readonly UsageEvent[];
  /** False when the events were dropped because of this error (they also reach `onDrop`). */
  willRetry: boolean;
}

export interface RetryOptions {
  /** Ceiling of the first backoff; doubles per attempt. Default 100 ms. */
  baseDelayMs?: number;
  /** Largest backoff; a server's `Retry-After` may ask for longer and is honoured. Default 30 000 ms. */
  maxDelayMs?: number;
}

interface PublisherSettings {
  /** Events per request. Default 500. */
  maxBatchSize?: number;
  /** Buffered events are sent at least this often. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Upper bound of events held in memory, the batch in flight included. Default 100 000. */
  maxBufferedEvents?: number;
  /** What a full buffer gives up: the event being published (default) or the oldest queued one. */
  overflow?: 'drop-newest' | 'drop-oldest';
  retry?: RetryOptions;
  /** Events the publisher gave up on, for every {@link DropReason}. Called synchronously. */
  onDrop?: (events: UsageEvent[], reason: DropReason) => void;
  /** Events the server answered but rejected one by one (unknown policy, undeclared field, ...). */
  onRejected?: (rejections: RejectedEvent[]) => void;
  /** Every failed send, whether or not it will be retried. */
  onError?: (error: unknown, failure: SendFailure) => void;
}

/**
 * Where batches go: over HTTP through a client (`transport: 'http'`, the default), over NATS
 * JetStream (`transport: 'nats'` with a {@link NatsTarget}), or to a `send` function of your own.
 */
export type PublisherOptions = PublisherSettings &
  (
    | { transport?: 'http'; client: Pick<LetheClient, 'publishEvents'>; send?: undefined; nats?: undefined }
    | { transport: 'nats'; nats: NatsTarget; client?: undefined; send?: undefined }
    | { send: SendBatch; transport?: undefined; client?: undefined; nats?: undefined }
  );

/**
 * Counters since construction. Every published event is in exactly one place:
 * `published === sent + dropped + buffered`.
 */
export interface PublisherStats {
  /** Calls to publish, whatever their outcome. */
  published: number;
  /** Events held in memory, `inFlight` included. */
  buffered: number;
  /** Events in the request being sent or retried. */
  inFlight: number;
  /** Events the server answered for with 200, including `duplicates` and `rejected`. */
  sent: number;
  /** Of `sent`, events the server already held (a retry of a request whose answer was lost). */
  duplicates: number;
  /** Of `sent`, events the server rejected. */
  rejected: number;
  /** Events given up, for any {@link DropReason}. */
  dropped: number;
  /** Failed attempts that were retried. */
  retries: number;
}

export interface CloseResult {
  /** Events the server answered for over the publisher's life (as in {@link PublisherStats}). */
  sent: number;
  /** Events still unsent at the close deadline, now dropped with reason `closed`. */
  unsent: number;
}

interface FlushWaiter {
  /** Resolves once every event at a position below this one is settled. */
  target: number;
  resolve: () => void;
}

/**
 * Sends usage events in the background without ever slowing the caller: `publish` only appends
 * to a bounded in-memory buffer; batches go out when full and on an interval, one request at a
 * time, retried with backoff on transient failures. Event ids are fixed at publish time, so a
 * retried batch is idempotent on the server.
 *
 * @example
 * const publisher = new Publisher({ client: lethe, onDrop: (events, reason) => log.warn({ reason, count: events.length }) });
 * publisher.publish({ subject: 'user-42', system: 'crm', policy: 'marketing-email', fields: ['contacts.email'] });
 * process.on('SIGTERM', async () => {
 *   const { unsent } = await publisher.close({ timeoutMs: 5_000 });
 *   if (unsent > 0) log.warn(`${unsent} usage events were not sent`);
 * });
 */
export class Publisher {
  private readonly send: SendBatch;
  private readonly maxBufferedEvents: number;
  private readonly overflow: 'drop-newest' | 'drop-oldest';
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly onDrop: PublisherSettings['onDrop'];
  private readonly onRejected: PublisherSettings['onRejected'];
  private readonly onError: PublisherSettings['onError'];

  private readonly queue = new EventQueue<UsageEvent>();
  /**
   * Events are numbered by position in publish order; a flush waits until every position below
   * its target is settled. Queued events leave in order (sent, or dropped as the oldest), so the
   * first unsettled position is the first unsettled in-flight event, else the queue's head.
   */
  private enqueued = 0;
  private dequeued = 0;
  private flushTarget = 0;
  private readonly waiters: FlushWaiter[] = [];
  private inFlight: UsageEvent[] = [];
  private inFlightStart = 0;
  /** Split batches are sent front half first, so the settled part of `inFlight` is a prefix. */
  private inFlightSettled = 0;
  /** Lowered after a 413 so the following batches fit the server's limit without splitting again. */
  private batchLimit: number;

  private running = false;
  private pumpScheduled = false;
  private closed = false;
  private abandoned = false;
  private closing: Promise<CloseResult> | undefined;
  private readonly abort = new AbortController();
  private readonly interval: ReturnType<typeof setInterval>;
  private backoffTimer: ReturnType<typeof setTimeout> | undefined;
  private wake: (() => void) | undefined;
  private readonly counters = { published: 0, sent: 0, duplicates: 0, rejected: 0, dropped: 0, retries: 0 };

  constructor(options: PublisherOptions) {
    const maxBatchSize = options.maxBatchSize ?? 500;
    const flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.maxBufferedEvents = options.maxBufferedEvents ?? 100_000;
    this.baseDelayMs = options.retry?.baseDelayMs ?? 100;
    this.maxDelayMs = options.retry?.maxDelayMs ?? 30_000;
    requirePositiveInteger('maxBatchSize', maxBatchSize);
    requirePositiveInteger('maxBufferedEvents', this.maxBufferedEvents);
    if (maxBatchSize > this.maxBufferedEvents) {
      throw new RangeError('maxBatchSize must not exceed maxBufferedEvents');
    }
    if (!(flushIntervalMs > 0)) throw new RangeError('flushIntervalMs must be positive');
    if (!(this.baseDelayMs >= 0) || !(this.maxDelayMs >= 0)) {
      throw new RangeError('retry delays must not be negative');
    }
    if (options.send !== undefined) this.send = options.send;
    else if (options.transport === 'nats') {
      if (options.nats === undefined) throw new TypeError("transport 'nats' needs a nats target");
      this.send = natsSend(options.nats);
    } else if (options.client !== undefined) {
      const client = options.client;
      this.send = (events, signal) => client.publishEvents(events, { signal });
    } else throw new TypeError('Publisher needs a client or a send function');

    this.batchLimit = maxBatchSize;
    this.overflow = options.overflow ?? 'drop-newest';
    this.onDrop = options.onDrop;
    this.onRejected = options.onRejected;
    this.onError = options.onError;
    this.interval = setInterval(() => this.flushOnInterval(), flushIntervalMs);
    // Telemetry must never be the reason a process stays alive; close() is how to wait for it.
    this.interval.unref();
  }

  /**
   * Buffers one event and returns at once; sending happens later, off the caller's path.
   * Returns false when the event was not kept (buffer full under drop-newest, or closed).
   */
  publish(event: PublishableEvent): boolean {
    this.counters.published += 1;
    const wireEvent = toWireEvent(event);
    if (this.closed) {
      this.drop([wireEvent], 'closed');
      return false;
    }
    if (this.queue.length + this.inFlightCount() >= this.maxBufferedEvents) {
      const oldest = this.overflow === 'drop-oldest' ? this.queue.shift() : undefined;
      if (oldest === undefined) {
        // drop-newest, or drop-oldest with every held event already in flight (not recallable).
        this.drop([wireEvent], 'overflow');
        return false;
      }
      this.dequeued += 1;
      this.drop([oldest], 'overflow');
      this.resolveWaiters();
    }
    this.queue.push(wireEvent);
    this.enqueued += 1;
    if (this.queue.length >= this.batchLimit) this.schedulePump();
    return true;
  }

  /** Resolves when every event buffered at call time has been sent or dropped. */
  flush(): Promise<void> {
    const target = this.enqueued;
    if (this.settledBelow() >= target) return Promise.resolve();
    this.flushTarget = Math.max(this.flushTarget, target);
    // Someone now waits for the outcome: a pending backoff may keep the process alive.
    this.backoffTimer?.ref();
    const flushed = new Promise<void>((resolve) => this.waiters.push({ target, resolve }));
    void this.pump();
    return flushed;
  }

  /**
   * Stops the interval, refuses new events and sends what is buffered. At the deadline it stops
   * retrying, aborts the request in flight and drops what is left (reported to `onDrop` with
   * reason `closed`, counted in `unsent`). Calling it again returns the same result.
   */
  close(options: { timeoutMs?: number } = {}): Promise<CloseResult> {
    this.closing ??= this.shutdown(options.timeoutMs ?? 10_000);
    return this.closing;
  }

  stats(): PublisherStats {
    const inFlight = this.inFlightCount();
    return { ...this.counters, buffered: this.queue.length + inFlight, inFlight };
  }

  private async shutdown(timeoutMs: number): Promise<CloseResult> {
    this.closed = true;
    clearInterval(this.interval);
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<true>((resolve) => {
      deadline = setTimeout(() => resolve(true), timeoutMs);
    });
    const timedOut = await Promise.race([this.flush().then(() => false), expired]);
    clearTimeout(deadline);
    const unsent = timedOut ? this.abandon() : 0;
    return { sent: this.counters.sent, unsent };
  }

  /** Gives up on everything held, at once: the close deadline must hold even if `send` hangs. */
  private abandon(): number {
    this.abandoned = true;
    this.abort.abort(new Error('The publisher was closed.'));
    this.wake?.();
    const queued = this.queue.drain();
    this.dequeued += queued.length;
    const unsent = [...this.inFlight.slice(this.inFlightSettled), ...queued];
    this.inFlight = [];
    this.inFlightSettled = 0;
    if (unsent.length > 0) this.drop(unsent, 'closed');
    this.resolveWaiters();
    return unsent.length;
  }

  private flushOnInterval(): void {
    if (this.queue.length === 0) return;
    this.flushTarget = Math.max(this.flushTarget, this.enqueued);
    void this.pump();
  }

  /** Defers the send to a microtask so a full batch never makes publish() do I/O work inline. */
  private schedulePump(): void {
    if (this.running || this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  /** The single sender: one batch in flight at a time, full batches or those a flush asked for. */
  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (
        !this.abandoned &&
        this.queue.length > 0 &&
        (this.queue.length >= this.batchLimit || this.dequeued < this.flushTarget)
      ) {
        this.inFlightStart = this.dequeued;
        this.inFlight = this.queue.take(this.batchLimit);
        this.inFlightSettled = 0;
        this.dequeued += this.inFlight.length;
        await this.deliver(this.inFlight);
        if (this.abandoned) return;
        this.inFlight = [];
        this.inFlightSettled = 0;
        this.resolveWaiters();
      }
    } finally {
      this.running = false;
    }
  }

  /** Sends one batch until it is answered, refused for good, or the publisher is abandoned. */
  private async deliver(batch: UsageEvent[]): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      let result: IngestResult;
      try {
        result = await this.send(batch, this.abort.signal);
      } catch (error) {
        if (this.abandoned) return;
        if (error instanceof LetheApiError && error.status === 413 && batch.length > 1) {
          const half = Math.ceil(batch.length / 2);
          this.batchLimit = Math.min(this.batchLimit, half);
          this.notify(this.onError, error, { events: batch, willRetry: true });
          await this.deliver(batch.slice(0, half));
          if (!this.abandoned) await this.deliver(batch.slice(half));
          return;
        }
        const willRetry = !(error instanceof LetheApiError) || error.retryable;
        this.notify(this.onError, error, { events: batch, willRetry });
        if (!willRetry) {
          this.inFlightSettled += batch.length;
          this.drop(batch, 'failed');
          return;
        }
        this.counters.retries += 1;
        await this.sleep(this.backoff(attempt, error));
        if (this.abandoned) return;
        continue;
      }
      if (this.abandoned) return; // already counted as unsent
      this.inFlightSettled += batch.length;
      this.record(batch, result);
      return;
    }
  }

  private record(batch: UsageEvent[], result: IngestResult | undefined): void {
    // A custom send (or an odd server) may answer less than an IngestResult; count what is there.
    const rejections = Array.isArray(result?.rejected) ? result.rejected : [];
    this.counters.sent += batch.length;
    this.counters.duplicates += Number(result?.duplicates) || 0;
    this.counters.rejected += rejections.length;
    if (rejections.length > 0 && this.onRejected !== undefined) {
      const rejected = rejections.flatMap((rejection) => {
        const event = typeof rejection?.index === 'number' ? batch[rejection.index] : undefined;
        return event === undefined ? [] : [{ ...rejection, event }];
      });
      this.notify(this.onRejected, rejected);
    }
  }

  /** Exponential backoff with full jitter, but never sooner than the server's Retry-After. */
  private backoff(attempt: number, error: unknown): number {
    const jittered = backoffDelay(attempt, { baseDelayMs: this.baseDelayMs, maxDelayMs: this.maxDelayMs });
    const retryAfterMs = error instanceof LetheApiError ? error.retryAfterMs : undefined;
    // The server knows its own load better than our backoff does, so its wait is not capped.
    return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.backoffTimer = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      // Background retries alone do not hold the process open; a pending flush() or close() does.
      if (this.waiters.length === 0) timer.unref();
      this.backoffTimer = timer;
      this.wake = done;
    });
  }

  private drop(events: UsageEvent[], reason: DropReason): void {
    this.counters.dropped += events.length;
    this.notify(this.onDrop, events, reason);
  }

  private inFlightCount(): number {
    return this.inFlight.length - this.inFlightSettled;
  }

  /** The first position not yet settled. */
  private settledBelow(): number {
    return this.inFlightCount() > 0 ? this.inFlightStart + this.inFlightSettled : this.dequeued;
  }

  private resolveWaiters(): void {
    const settled = this.settledBelow();
    while (this.waiters.length > 0 && this.waiters[0]!.target <= settled) this.waiters.shift()!.resolve();
  }

  /** Observers run on the caller's path: a throwing one must not break publish() or the sender. */
  private notify<A extends unknown[]>(callback: ((...args: A) => void) | undefined, ...args: A): void {
    try {
      callback?.(...args);
    } catch {
      // Deliberately ignored: there is no better place to report an observer's own failure.
    }
  }
}

function toWireEvent(event: PublishableEvent): UsageEvent {
  return {
    id: event.id ?? globalThis.crypto.randomUUID(),
    subject: event.subject,
    system: event.system,
    policy: event.policy,
    fields: [...event.fields],
    at: toInstant(event.at),
  };
}

/** An invalid Date is passed on as text so the server rejects it visibly instead of publish() throwing. */
function toInstant(at: Date | string | undefined): string {
  if (at === undefined) return new Date().toISOString();
  if (typeof at === 'string') return at;
  return Number.isNaN(at.getTime()) ? String(at) : at.toISOString();
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
}
