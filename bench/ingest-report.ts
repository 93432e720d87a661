import { FIELD_NAMES, POLICIES, SYSTEM_NAMES } from './catalog.js';
import type { IngestMeasurement } from './ingest-measure.js';
import type { Machine } from './machine.js';
import { table } from './report.js';
import { formatInteger, formatMiB, formatMs, formatRatio } from './stats.js';

export interface IngestRun extends IngestMeasurement {
  readonly key: 'ceiling' | 'naive' | 'sqlite' | 'postgres';
  readonly name: string;
  readonly verified: string;
}

export interface IngestParameters {
  readonly events: number;
  readonly subjects: number;
  readonly batch: number;
  readonly concurrency: number;
  readonly fieldUses: number;
  readonly bodyBytes: number;
}

const TARGETS: Partial<Record<IngestRun['key'], number>> = { sqlite: 50_000, postgres: 20_000 };

export function ingestReport(
  machine: Machine,
  parameters: IngestParameters,
  runs: readonly IngestRun[],
  build: string,
): string {
  const byKey = new Map(runs.map((run) => [run.key, run]));
  const ratio = (run: IngestRun, baseline: IngestRun | undefined) =>
    baseline ? formatRatio(run.eventsPerSecond / baseline.eventsPerSecond) : '–';
  const events = parameters.events;
  const rows = [
    [
      'run',
      'events/s',
      'vs ceiling',
      'vs naive',
      'p50 batch',
      'p99 batch',
      'total',
      'CPU per 1k events',
      'disk written per event',
      'server peak RSS',
    ],
    ...runs.map((run) => [
      run.name,
      formatInteger(run.eventsPerSecond),
      ratio(run, byKey.get('ceiling')),
      ratio(run, byKey.get('naive')),
      `${formatMs(run.p50Ms)} ms`,
      `${formatMs(run.p99Ms)} ms`,
      `${run.seconds.toFixed(1)} s`,
      `${formatMs((run.server.cpuSeconds * 1e6) / events)} ms` +
        (run.postgres ? ` + PostgreSQL ${formatMs((run.postgres.cpuSeconds * 1e6) / events)} ms` : ''),
      `${formatKiB(run.server.writtenBytes / events)}` +
        (run.postgres ? ` + PostgreSQL ${formatKiB(run.postgres.writtenBytes / events)}` : ''),
      formatMiB(run.server.peakRssKiB),
    ]),
  ];
  const policies = Object.entries(POLICIES)
    .map(([name, policy]) => `${name} ${policy.retention}`)
    .join(', ');
  return `## Ingest: \`npm run bench:ingest\`

${machine.lines.map((line) => `- ${line}`).join('\n')}
- Lethe build: ${build}

Parameters: ${formatInteger(events)} events (unique ids) about ${formatInteger(parameters.subjects)} subjects,
${formatInteger(parameters.batch)} events per \`POST /v1/events\`, ${parameters.concurrency} requests in flight over keep-alive
connections, ${(parameters.fieldUses / events).toFixed(2)} fields per event on average out of ${FIELD_NAMES.length}
declared over ${SYSTEM_NAMES.length} systems, 5 policies (${policies}), times spread over the last two years.
Bodies are serialised before timing (${formatInteger(parameters.bodyBytes / 2 ** 20)} MiB in all); each server runs in its own
process, the load generator in the benchmark's, on loopback.

${table(rows)}

- **ceiling**: node:http that reads and \`JSON.parse\`s each body and answers 200; nothing can ingest faster with this client.
- **naive**: node:http + better-sqlite3, one row per event per field in a table indexed on (subject, field, at),
  WAL, \`synchronous=FULL\`, prepared insert, one transaction per batch; expiries are left to query time.
- **Lethe**: \`lethe serve\` from \`dist/\`, default settings and log level, fresh data directory / database per run.
- CPU and disk figures come from \`/proc/<pid>/stat\` and \`/proc/<pid>/io\` (\`write_bytes\`, what reached the disk:
  WAL and checkpoints included) of the server's Node process and, for PostgreSQL, of all \`postgres\` processes,
  read right before and after the load. The load generator has the other core.

${runs
  .flatMap((run) =>
    run.wal
      ? [
          `PostgreSQL's WAL during the ${run.name} load (pg_stat_wal): ${(run.wal.records / events).toFixed(1)} records, ` +
            `${(run.wal.fullPageImages / events).toFixed(2)} full-page images and ${formatKiB(run.wal.bytes / events)} per event.`,
        ]
      : [],
  )
  .join('\n')}

Verification: ${runs.map((run) => `${run.name}: ${run.verified}`).join('; ')}.

${runs
  .flatMap((run) => {
    const target = TARGETS[run.key];
    return target === undefined ? [] : [targetSentence(run, target, events, machine)];
  })
  .join('\n')}
`;
}

function targetSentence(run: IngestRun, target: number, events: number, machine: Machine): string {
  const claim = `- Target for ${run.name} (≥ ${formatInteger(target)} events/s with durable acks):`;
  if (run.eventsPerSecond >= target)
    return `${claim} **met** (${formatInteger(run.eventsPerSecond)} events/s).`;
  const busy = run.server.cpuSeconds / run.seconds;
  const written = run.server.writtenBytes + (run.postgres?.writtenBytes ?? 0);
  const writeRate = written / run.seconds;
  const observed =
    `the server process was on the CPU ${formatInteger(100 * busy)}% of the time` +
    (run.postgres ? ` and PostgreSQL ${formatInteger((100 * run.postgres.cpuSeconds) / run.seconds)}%` : '') +
    `, and ${formatKiB(written / events)} per event reached the disk (${formatInteger(writeRate / 1e6)} MB/s, ` +
    `${formatInteger((100 * writeRate) / machine.diskBytesPerSecond)}% of its sequential bandwidth)`;
  return `${claim} **missed** by ${formatInteger(100 * (1 - run.eventsPerSecond / target))}% (${formatInteger(run.eventsPerSecond)} events/s): ${observed}. See the analysis below.`;
}

export function formatKiB(bytes: number): string {
  return `${bytes < 10 * 1024 ? (bytes / 1024).toFixed(1) : formatInteger(bytes / 1024)} KiB`;
}
