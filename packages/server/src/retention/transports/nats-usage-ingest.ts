import type { IngestResult } from '@lethe/api';
import { jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Principal } from '../../auth/principal.js';
import type { Metrics } from '../../http/metrics.js';
import { AppError } from '../../lib/app-error.js';
import { JetStreamBatches, type BatchVerdict, type DeadLetterOut } from '../../lib/jetstream-batches.js';
import { TokenCache, type VerifyToken } from './token-cache.js';

/** The telemetry ingest (`TelemetryService.ingest`): the one path HTTP, NATS and OTLP share. */
export interface UsageIngest {
  ingest(principal: Principal, events: readonly unknown[]): Promise<IngestResult>;
}

export interface NatsUsageSettings {
  readonly stream: string;
  /** The subjects the stream captures, `lethe.usage.>`: the tail after the prefix is the system. */
  readonly subjects: readonly string[];
  readonly consumer: string;
  readonly rejectedPrefix: string;
  readonly ackWaitMs: number;
}

export interface NatsUsageOptions {
  /** Most messages taken as one batch (default 1,000). */
  readonly batchSize?: number;
  readonly batchDelayMs?: number;
  readonly retryDelayMs?: number;
  /** Events per ingest call: the telemetry service's `maxBatchEvents` (default 10,000). */
  readonly maxBatchEvents?: number;
  readonly metrics?: Metrics;
  readonly log?: (message: string, error?: unknown) => void;
}

/** A usage dead letter: one refused event (or a whole refused message) and why. */
export interface UsageDeadLetter {
  readonly subject: string;
  readonly streamSeq: number;
  /** The event's position in its message (0 for a message of one event or a refused message). */
  readonly index: number;
  readonly id?: string;
  readonly reasons: { code: string; message: string }[];
  /** The event as sent (UTF-8 JSON), or the whole message when it was refused as a whole. */
  readonly payload: string;
}

const UTF8 = new TextDecoder();
/** Ingest calls in flight per node (as 4 HTTP publishers): batches at once, and chunks of one. */
const INGEST_CALLS_AT_ONCE = 4;

/** One message's events, ready for ingest. */
interface Unpacked {
  readonly message: JsMsg;
  readonly token: string;
  readonly events: unknown[];
}

/**
 * Usage telemetry over NATS JetStream, a thin adapter onto `TelemetryService.ingest`: the same
 * validation, rejection codes, event-id dedupe, journal append, audit entry and backlog limit as
 * `POST /v1/events`. Messages on `lethe.usage.<system>` hold one event, a JSON array or
 * `{"events": [...]}` and carry their publisher's Lethe token in an `Authorization: Bearer`
 * header (docs/security.md): the token's scope applies as over HTTP, and every event must name
 * the system of its subject. Batches of messages go to ingest together (grouped by token); a
 * message is acked once its events are durable; a refused event goes to
 * `<rejectedPrefix>.<system>` with its code. An event without an id is given one from its stream
 * position, so a redelivery after a crash is a duplicate, never a second use.
 */
export class NatsUsageIngest {
  private readonly consumer: JetStreamBatches;
  private readonly tokens: TokenCache;
  private readonly maxBatchEvents: number;
  /** Makes stream positions unique across a re-created stream (its creation time). */
  private streamEpoch = '';

  constructor(
    private readonly nc: NatsConnection,
    private readonly settings: NatsUsageSettings,
    private readonly telemetry: UsageIngest,
    verify: VerifyToken,
    private readonly options: NatsUsageOptions = {},
  ) {
    this.tokens = new TokenCache(verify);
    this.maxBatchEvents = options.maxBatchEvents ?? 10_000;
    this.consumer = new JetStreamBatches(nc, (batch) => this.store(batch), {
      stream: settings.stream,
      consumer: settings.consumer,
      ackWaitMs: settings.ackWaitMs,
      batchSize: options.batchSize ?? 1_000,
      // Order does not matter to usage: a use extends an expiry whatever arrived first.
      concurrency: INGEST_CALLS_AT_ONCE,
      ...(options.batchDelayMs !== undefined ? { batchDelayMs: options.batchDelayMs } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      onFailure: () => options.metrics?.natsUsageIngestFailures.inc(),
      onDeadLetter: (letter) => options.metrics?.natsUsageRejected.inc({ code: letter.code }),
      ...(options.log ? { log: options.log } : {}),
    });
  }

  async start(): Promise<void> {
    const info = await (await jetstreamManager(this.nc)).streams.info(this.settings.stream);
    this.streamEpoch = Date.parse(info.created).toString(36);
    await this.consumer.start();
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }

  private async store(batch: readonly JsMsg[]): Promise<BatchVerdict> {
    const letters = new Map<JsMsg, DeadLetterOut[]>();
    const refused = new Set<JsMsg>();
    const refuse = (message: JsMsg, code: string, text: string) => {
      refused.add(message);
      letters.set(message, [this.letter(message, 0, undefined, code, text, UTF8.decode(message.data))]);
    };
    const byToken = new Map<string, Unpacked[]>();
    for (const message of batch) {
      const unpacked = this.unpack(message);
      if ('code' in unpacked) refuse(message, unpacked.code, unpacked.message);
      else {
        const group = byToken.get(unpacked.token);
        if (group) group.push(unpacked);
        else byToken.set(unpacked.token, [unpacked]);
      }
    }
    const calls: (() => Promise<void>)[] = [];
    for (const [token, group] of byToken) {
      let principal: Principal;
      try {
        principal = await this.tokens.principal(token);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        for (const { message } of group) refuse(message, error.code, error.message);
        continue;
      }
      for (const chunk of chunks(group, this.maxBatchEvents)) {
        if (chunk[0]!.events.length > this.maxBatchEvents) {
          const text = `A message may hold at most ${this.maxBatchEvents} events.`;
          refuse(chunk[0]!.message, 'BATCH_TOO_LARGE', text);
          continue;
        }
        calls.push(() => this.ingestChunk(principal, chunk, letters, refuse));
      }
    }
    // Several ingest calls at once, as several HTTP publishers would make: one's validation
    // overlaps another's commit. Any failure fails the batch (all of it comes back; dedupe).
    let next = 0;
    const worker = async () => {
      while (next < calls.length) await calls[next++]!();
    };
    await Promise.all(Array.from({ length: Math.min(INGEST_CALLS_AT_ONCE, calls.length) }, worker));
    return { letters, refused };
  }

  private async ingestChunk(
    principal: Principal,
    chunk: readonly Unpacked[],
    letters: Map<JsMsg, DeadLetterOut[]>,
    refuse: (message: JsMsg, code: string, text: string) => void,
  ): Promise<void> {
    const events = chunk.flatMap((unpacked) => unpacked.events);
    let result: IngestResult;
    try {
      result = await this.telemetry.ingest(principal, events);
    } catch (error) {
      // The publisher's fault (a token that may not publish): refused. The store's, or a backlog
      // (503 INGEST_BACKLOG): thrown, and the whole batch comes back later.
      if (!(error instanceof AppError) || error.status >= 500 || error.status === 429) throw error;
      for (const { message } of chunk) refuse(message, error.code, error.message);
      return;
    }
    this.options.metrics?.natsUsageAccepted.inc({}, result.accepted);
    this.options.metrics?.natsUsageDuplicate.inc({}, result.duplicates);
    if (result.rejected.length === 0) return;
    // Back from the flat index to the message and the event's place in it.
    const owners: { unpacked: Unpacked; index: number }[] = [];
    for (const unpacked of chunk) unpacked.events.forEach((_, index) => owners.push({ unpacked, index }));
    for (const rejection of result.rejected) {
      const owner = owners[rejection.index];
      if (!owner) continue;
      const { message, events } = owner.unpacked;
      const event = events[owner.index] as { id?: unknown };
      const id = typeof event?.id === 'string' ? event.id : undefined;
      const letter = this.letter(message, owner.index, id, rejection.code, rejection.message, event);
      const list = letters.get(message);
      if (list) list.push(letter);
      else letters.set(message, [letter]);
    }
  }

  /** A message's token and events, or why the message as a whole is refused. */
  private unpack(message: JsMsg): Unpacked | { code: string; message: string } {
    const header = message.headers?.get('Authorization') ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token)
      return { code: 'TOKEN_MISSING', message: 'Send "Authorization: Bearer <token>" as a header.' };
    const system = this.systemOf(message.subject);
    let body: unknown;
    try {
      body = JSON.parse(UTF8.decode(message.data));
    } catch (error) {
      return { code: 'INVALID_JSON', message: `The message is not JSON: ${(error as Error).message}` };
    }
    const list: unknown[] = Array.isArray(body)
      ? body
      : Array.isArray((body as { events?: unknown } | null)?.events)
        ? (body as { events: unknown[] }).events
        : [body];
    // An event without a system is left to the ingest's own check (INVALID_EVENT).
    const mismatch = list.findIndex((event) => {
      const named = (event as { system?: unknown } | null)?.system;
      return typeof named === 'string' && named !== system;
    });
    if (mismatch !== -1) {
      return {
        code: 'SUBJECT_SYSTEM_MISMATCH',
        message: `Event ${mismatch} does not name the system of the subject "${message.subject}" (${system}).`,
      };
    }
    const events = list.map((event: unknown, index): unknown =>
      typeof event === 'object' && event !== null && (event as { id?: unknown }).id === undefined
        ? { ...event, id: `nats:${this.settings.stream}:${this.streamEpoch}:${message.seq}:${index}` }
        : event,
    );
    return { message, token, events };
  }

  /** The system a subject is about: what follows the stream's subject prefix (`lethe.usage.`). */
  private systemOf(subject: string): string | undefined {
    for (const pattern of this.settings.subjects) {
      const prefix = pattern.endsWith('>') ? pattern.slice(0, -1) : undefined;
      if (prefix !== undefined && subject.startsWith(prefix)) return subject.slice(prefix.length);
    }
    return undefined;
  }

  private letter(
    message: JsMsg,
    index: number,
    id: string | undefined,
    code: string,
    text: string,
    payload: unknown,
  ): DeadLetterOut {
    const letter: UsageDeadLetter = {
      subject: message.subject,
      streamSeq: message.seq,
      index,
      ...(id !== undefined ? { id } : {}),
      reasons: [{ code, message: text }],
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    };
    return {
      subject: `${this.settings.rejectedPrefix}.${subjectTail(this.systemOf(message.subject))}`,
      msgID: `usage-rejected:${this.settings.stream}:${this.streamEpoch}:${message.seq}:${index}`,
      body: JSON.stringify(letter),
      code,
    };
  }
}

/** Consecutive groups of messages whose events add up to at most `limit` (one oversized alone). */
function* chunks(group: readonly Unpacked[], limit: number): Generator<Unpacked[]> {
  let chunk: Unpacked[] = [];
  let size = 0;
  for (const unpacked of group) {
    if (chunk.length > 0 && size + unpacked.events.length > limit) {
      yield chunk;
      chunk = [];
      size = 0;
    }
    chunk.push(unpacked);
    size += unpacked.events.length;
  }
  if (chunk.length > 0) yield chunk;
}

/** A dead-letter subject's tail: the system as NATS tokens allow (none is `unknown`). */
function subjectTail(system: string | undefined): string {
  return system === undefined || system === '' ? 'unknown' : system.replace(/[^A-Za-z0-9._@-]/g, '_');
}
