/**
 * `npm run bench:telemetry [-- --events N --subjects N --batch N --concurrency N]`
 *
 * Usage telemetry through its three doors into one Lethe on SQLite (`lethe serve`, a fresh data
 * dir each), with the same workload as `bench:ingest` (200,000 events by default): `POST
 * /v1/events` (the in-run baseline), NATS JetStream (`lethe.usage.<system>`, the SDK's message
 * shape of `--batch`/systems events, and one event per message), and OTLP/HTTP logs in JSON and
 * protobuf (`--batch` records a request, `--concurrency` in flight). Each run is checked: the
 * store holds every event once after the fold. Rewrites the telemetry section of
 * docs/benchmarks.md. Needs NATS JetStream at NATS_URL (default nats://127.0.0.1:4222).
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UsageEvent } from '@lethe/api';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { positiveIntegerFlags } from './args.js';
import { postAll } from './http-load.js';
import { applyCatalog, LETHE_BUILD, startLethe, type LetheServer } from './lethe-process.js';
import { describeMachine } from './machine.js';
import { table, writeReportSection } from './report.js';
import { formatInteger, formatRatio, percentile, secondsSince } from './stats.js';
import {
  checkAnswers,
  checkCounts,
  openSqliteCounts,
  STORED_COUNTS_SQL,
  storedCounts,
} from './verify-ingest.js';
import { generateWorkload, type Workload } from './workload.js';

const options = positiveIntegerFlags(process.argv.slice(2), {
  events: 200_000,
  subjects: 20_000,
  batch: 1_000,
  concurrency: 4,
});
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** The usage stream, consumer and subject prefix of one run. */
interface UsageNames {
  readonly stream: string;
  readonly consumer: string;
  readonly prefix: string;
  /** Stops Lethe; starts it again on the same store, with whatever waits in the stream. */
  readonly stop: () => Promise<void>;
  readonly start: () => Promise<void>;
}

interface Run {
  readonly name: string;
  readonly eventsPerSecond: number;
  readonly seconds: number;
  readonly detail: string;
}

async function main() {
  const loadAtStart = loadavg()[0] ?? 0;
  const workload = generateWorkload({ ...options, now: Date.now() });
  const events = workload.bodies.flatMap(
    (body) => (JSON.parse(body.toString('utf8')) as { events: UsageEvent[] }).events,
  );
  const machine = describeMachine([`NATS server at ${NATS_URL}`]);
  const runs: Run[] = [];
  runs.push(
    await withLethe('HTTP `POST /v1/events` (baseline)', workload, (lethe) => httpRun(lethe, workload)),
  );
  runs.push(
    await withLethe('NATS, SDK-shaped messages', workload, (lethe, nats, usage) =>
      natsRun(lethe, nats, usage, sdkMessages(events), 'messages of one system’s events from a batch'),
    ),
  );
  runs.push(
    await withLethe('NATS, one event per message', workload, (lethe, nats, usage) =>
      natsRun(
        lethe,
        nats,
        usage,
        events.map((event) => ({ system: event.system, events: [event] })),
        'one event a message',
      ),
    ),
  );
  const otlp = otlpRecords(events);
  runs.push(await withLethe('OTLP/HTTP logs, JSON', workload, (lethe) => otlpRun(lethe, otlp, 'json')));
  runs.push(
    await withLethe('OTLP/HTTP logs, protobuf', workload, (lethe) => otlpRun(lethe, otlp, 'protobuf')),
  );
  const baseline = runs[0]!.eventsPerSecond;
  const rows = runs.map((run) => [
    run.name,
    formatInteger(run.eventsPerSecond),
    formatRatio(run.eventsPerSecond / baseline),
    run.seconds.toFixed(1),
    run.detail,
  ]);
  writeReportSection(
    'telemetry-transports',
    [
      '## Telemetry over NATS and OpenTelemetry: `npm run bench:telemetry`',
      '',
      ...machine.lines.map((line) => `- ${line}`),
      `- Build: ${LETHE_BUILD}; load average ${loadAtStart.toFixed(2)} at start, ${(loadavg()[0] ?? 0).toFixed(2)} at end`,
      `- Workload: ${formatInteger(options.events)} events about ${formatInteger(options.subjects)} subjects (as \`bench:ingest\`), ` +
        `batches/requests of ${options.batch}, ${options.concurrency} HTTP requests in flight; each row a fresh \`lethe serve\` on SQLite`,
      '- events/s: acknowledged by Lethe (HTTP 200; for NATS: the messages wait in the stream, Lethe starts, and the time runs',
      '  from the first delivery until the durable consumer holds nothing pending or unacked: every event appended to the',
      '  journal and acked). Each run is verified after the fold: the',
      '  store holds every event id once and the use counts the workload implies. Targets (issue 17): NATS ≥ 30,000, OTLP ≥ 20,000.',
      '',
      table([['door', 'events/s', 'vs HTTP', 'seconds', 'how'], ...rows]),
    ].join('\n'),
  );
  log('wrote the telemetry section of docs/benchmarks.md');
}

async function withLethe(
  name: string,
  workload: Workload,
  body: (
    lethe: LetheServer,
    nats: NatsConnection,
    usage: UsageNames,
  ) => Promise<{ seconds: number; detail: string }>,
): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-bench-telemetry-'));
  const run = `b${process.pid}_${Date.now().toString(36)}`;
  const env = {
    NATS_URL,
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
  };
  const nats = await connect({ servers: NATS_URL });
  try {
    let lethe = await startLethe({ dataDir }, env);
    let measured: { seconds: number; detail: string };
    try {
      await applyCatalog(lethe);
      measured = await body(lethe, nats, {
        stream: env.LETHE_NATS_USAGE_STREAM,
        consumer: env.LETHE_NATS_USAGE_CONSUMER,
        prefix: `lethe.${run}.usage`,
        stop: () => lethe.server.stop(),
        start: async () => {
          lethe = await startLethe({ dataDir }, env);
        },
      });
      await awaitFold(lethe);
    } finally {
      await lethe.server.stop();
    }
    const connection = openSqliteCounts(dataDir);
    const counts = storedCounts(connection.prepare(STORED_COUNTS_SQL).get() as Record<string, unknown>);
    connection.close();
    checkCounts(counts, workload.expected);
    const eventsPerSecond = options.events / measured.seconds;
    log(`${name}: ${formatInteger(eventsPerSecond)} events/s (${measured.seconds.toFixed(1)} s)`);
    return { name, eventsPerSecond, ...measured };
  } finally {
    const jsm = await jetstreamManager(nats);
    for (const stream of [
      env.LETHE_NATS_STREAM,
      env.LETHE_NATS_USAGE_STREAM,
      env.LETHE_NATS_REJECTED_STREAM,
      env.LETHE_NATS_EXPORT_STREAM,
    ]) {
      await jsm.streams.delete(stream).catch(() => false);
    }
    await nats.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function httpRun(lethe: LetheServer, workload: Workload) {
  const load = await postAll({
    url: `${lethe.server.url}/v1/events`,
    bodies: workload.bodies,
    concurrency: options.concurrency,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${lethe.token}` },
  });
  checkAnswers(load.answers, workload.expected);
  return { seconds: load.seconds, detail: `p99 ${percentile(load.latenciesMs, 99).toFixed(0)} ms a request` };
}

/** What the SDK's NATS target sends: each batch split into one message per system. */
function sdkMessages(events: UsageEvent[]): { system: string; events: UsageEvent[] }[] {
  const messages: { system: string; events: UsageEvent[] }[] = [];
  for (let start = 0; start < events.length; start += options.batch) {
    const bySystem = new Map<string, UsageEvent[]>();
    for (const event of events.slice(start, start + options.batch)) {
      const group = bySystem.get(event.system);
      if (group) group.push(event);
      else bySystem.set(event.system, [event]);
    }
    for (const [system, group] of bySystem) messages.push({ system, events: group });
  }
  return messages;
}

/**
 * The consumer's side: with Lethe stopped, publishes every message (2,000 JetStream acks
 * outstanding), then starts Lethe and times from the first delivery until the durable consumer
 * holds nothing pending or unacked: every event appended to the journal, durably, and acked.
 */
async function natsRun(
  lethe: LetheServer,
  nats: NatsConnection,
  usage: UsageNames,
  messages: { system: string; events: UsageEvent[] }[],
  how: string,
) {
  const bodies = messages.map((message) =>
    Buffer.from(JSON.stringify(message.events.length === 1 ? message.events[0] : { events: message.events })),
  );
  const h = natsHeaders();
  // Minted by the first start: the same signing key verifies it after the restart.
  h.set('Authorization', `Bearer ${lethe.token}`);
  await usage.stop();
  const js = jetstream(nats);
  const publishing = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 2_000 }, async () => {
      while (next < bodies.length) {
        const n = next++;
        await js.publish(`${usage.prefix}.${messages[n]!.system}`, bodies[n], { headers: h });
      }
    }),
  );
  const published = secondsSince(publishing);
  const jsm = await jetstreamManager(nats);
  const starting = usage.start();
  let first: number | undefined;
  for (;;) {
    const info = await jsm.consumers.info(usage.stream, usage.consumer).catch(() => undefined);
    if (info && first === undefined && info.delivered.stream_seq > 0) first = performance.now();
    if (info && info.num_pending === 0 && info.num_ack_pending === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await starting;
  return {
    seconds: secondsSince(first ?? performance.now()),
    detail:
      `${formatInteger(messages.length)} messages (${how}) waiting in the stream, drained from the first delivery; ` +
      `publishing them took ${published.toFixed(1)} s`,
  };
}

/** The workload as OpenTelemetry log records: privacy.* attributes, a body and other attributes. */
function otlpRecords(events: UsageEvent[]): ReadableLogRecord[][] {
  const resources = new Map<string, ReturnType<typeof resourceFromAttributes>>();
  const requests: ReadableLogRecord[][] = [];
  for (let start = 0; start < events.length; start += options.batch) {
    requests.push(
      events.slice(start, start + options.batch).map((event) => {
        const ms = Date.parse(event.at);
        let resource = resources.get(event.system);
        if (!resource) {
          resource = resourceFromAttributes({ 'service.name': event.system, 'privacy.system': event.system });
          resources.set(event.system, resource);
        }
        return {
          hrTime: [Math.floor(ms / 1000), (ms % 1000) * 1e6],
          hrTimeObserved: [Math.floor(ms / 1000), (ms % 1000) * 1e6],
          body: `served a request for ${event.subject}`,
          severityText: 'INFO',
          severityNumber: 9,
          resource,
          instrumentationScope: { name: 'bench' },
          attributes: {
            'privacy.subject': event.subject,
            'privacy.policy': event.policy,
            'privacy.fields': [...event.fields],
            'privacy.event_id': event.id!,
            'http.route': '/orders/:id',
          },
          droppedAttributesCount: 0,
        } as unknown as ReadableLogRecord;
      }),
    );
  }
  return requests;
}

async function otlpRun(lethe: LetheServer, requests: ReadableLogRecord[][], encoding: 'json' | 'protobuf') {
  const serializer = encoding === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer;
  const bodies = requests.map((records) => Buffer.from(serializer.serializeRequest(records)!));
  const load = await postAll({
    url: `${lethe.server.url}/v1/otlp/v1/logs`,
    bodies,
    concurrency: options.concurrency,
    headers: {
      'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      authorization: `Bearer ${lethe.token}`,
    },
    raw: true,
  });
  for (const answer of load.answers as Buffer[]) {
    const response = serializer.deserializeResponse(new Uint8Array(answer));
    if (Number(response.partialSuccess?.rejectedLogRecords ?? 0) > 0) {
      throw new Error(`records were refused: ${response.partialSuccess?.errorMessage}`);
    }
  }
  const mib = bodies.reduce((sum, body) => sum + body.length, 0) / 2 ** 20;
  return {
    seconds: load.seconds,
    detail: `${bodies.length} requests (${mib.toFixed(0)} MiB), p99 ${percentile(load.latenciesMs, 99).toFixed(0)} ms a request`,
  };
}

/** Waits (without reads that would drain the journal) until the background fold has applied all. */
async function awaitFold(lethe: LetheServer): Promise<void> {
  for (;;) {
    const response = await fetch(`${lethe.server.url}/readyz`);
    const ready = (await response.json()) as { usageJournal: { backlogEvents: number } };
    if (ready.usageJournal.backlogEvents === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function log(message: string) {
  process.stdout.write(`[bench:telemetry] ${message}\n`);
}

await main();
