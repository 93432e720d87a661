/**
 * `npm run bench:reads -- --after-write [--events N --seconds N]`: read-after-write.
 *
 * A probe publishes a batch of one use of a subject nobody else uses, and as soon as that batch's
 * 200 arrives reads `GET /v1/subjects/{subject}`: the read must reflect the batch (issue 17: "a
 * subject read right after its batch's 200 reflects it"), and its latency is recorded. The probe
 * runs alone first (the in-run baseline), then during a full ingest load (`bench:ingest`'s
 * workload: batches of 1,000 events, 4 in flight), on Lethe on SQLite and on PostgreSQL.
 * Rewrites the read-after-write block of docs/benchmarks.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { send } from './http-client.js';
import { postAll } from './http-load.js';
import { applyCatalog, LETHE_BUILD, startLethe, type LetheServer } from './lethe-process.js';
import { describeMachine } from './machine.js';
import { describePostgres, dropBenchDatabase, recreateBenchDatabase } from './postgres-database.js';
import { table, writeReportSection } from './report.js';
import { REPO_ROOT } from './server-process.js';
import { formatInteger, formatMs, percentile } from './stats.js';
import { generateWorkload } from './workload.js';

export interface AfterWriteOptions {
  /** Events of the ingest load. */
  readonly events: number;
  /** How long the probe runs alone. */
  readonly seconds: number;
}

const INGEST_CONCURRENCY = 4;
const INGEST_BATCH = 1_000;
const TARGET_P99_MS = 50;

interface ProbeRun {
  readonly backend: string;
  readonly condition: string;
  readonly probes: number;
  readonly reflected: number;
  readonly readP50Ms: number;
  readonly readP99Ms: number;
  readonly writeP99Ms: number;
  /** Events/s of the ingest load the probe ran beside; undefined when it ran alone. */
  readonly ingestPerSecond?: number;
  readonly load: number;
}

let probeSequence = 0;

/** Probes until `stop()` says so: publish one use of a fresh subject, then read that subject. */
async function probe(lethe: LetheServer, stop: () => boolean) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const headers = { authorization: `Bearer ${lethe.token}`, 'content-type': 'application/json' };
  const reads: number[] = [];
  const writes: number[] = [];
  let reflected = 0;
  const base = Date.now() - 86_400_000;
  try {
    while (!stop()) {
      probeSequence += 1;
      const subject = `raw-probe-${probeSequence}`;
      const at = new Date(base + probeSequence * 1000).toISOString();
      const event = {
        subject,
        system: 'accounts',
        policy: 'user-account-access',
        fields: ['accounts.email'],
        at,
      };
      const body = Buffer.from(JSON.stringify({ events: [event] }));
      let started = performance.now();
      const posted = await send({
        method: 'POST',
        url: `${lethe.server.url}/v1/events`,
        headers,
        body,
        agent,
      });
      writes.push(performance.now() - started);
      if (posted.status !== 200)
        throw new Error(`probe batch answered ${posted.status}: ${posted.body.toString('utf8')}`);
      started = performance.now();
      const read = await send({
        method: 'GET',
        url: `${lethe.server.url}/v1/subjects/${subject}`,
        headers,
        agent,
      });
      reads.push(performance.now() - started);
      if (read.status === 200 && reflects(read.body, at)) reflected += 1;
      else if (read.status !== 200 && read.status !== 404) {
        throw new Error(`probe read answered ${read.status}: ${read.body.toString('utf8')}`);
      }
    }
  } finally {
    agent.destroy();
  }
  return { reads, writes, reflected };
}

/** The view shows the probe's one use: the field, used last at the event's time, once. */
function reflects(body: Buffer, at: string): boolean {
  const view = JSON.parse(body.toString('utf8')) as {
    fields: { field: string; lastUseAt: string; uses: { count: number }[] }[];
  };
  const field = view.fields.find((candidate) => candidate.field === 'accounts.email');
  return field?.lastUseAt === at && field.uses[0]?.count === 1;
}

function summarise(
  backend: string,
  condition: string,
  result: Awaited<ReturnType<typeof probe>>,
  ingestPerSecond?: number,
): ProbeRun {
  const run = {
    backend,
    condition,
    probes: result.reads.length,
    reflected: result.reflected,
    readP50Ms: percentile(result.reads, 50),
    readP99Ms: percentile(result.reads, 99),
    writeP99Ms: percentile(result.writes, 99),
    ...(ingestPerSecond !== undefined ? { ingestPerSecond } : {}),
    load: loadavg()[0] ?? 0,
  };
  log(
    `${backend}, ${condition}: ${run.reflected}/${run.probes} reflected, read p99 ${formatMs(run.readP99Ms)} ms` +
      (ingestPerSecond !== undefined ? `, ingest ${formatInteger(ingestPerSecond)} events/s` : ''),
  );
  return run;
}

async function backendRuns(label: string, options: AfterWriteOptions, databaseUrl?: string, cli?: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-bench-raw-'));
  let lethe: LetheServer | undefined;
  try {
    lethe = await startLethe(
      { dataDir, ...(databaseUrl ? { databaseUrl } : {}) },
      { LETHE_RATE_LIMIT: 'off' },
      cli,
    );
    await applyCatalog(lethe);
    const alone = options.seconds * 1000;
    const idleStart = performance.now();
    const idle = summarise(label, 'alone', await probe(lethe, () => performance.now() - idleStart > alone));

    const workload = generateWorkload({
      events: options.events,
      subjects: Math.max(1, Math.floor(options.events / 10)),
      batch: INGEST_BATCH,
      now: Date.now(),
    });
    let ingesting = true;
    const probing = probe(lethe, () => !ingesting);
    const headers = { authorization: `Bearer ${lethe.token}`, 'content-type': 'application/json' };
    const load = await postAll({
      url: `${lethe.server.url}/v1/events`,
      bodies: workload.bodies,
      concurrency: INGEST_CONCURRENCY,
      headers,
    }).finally(() => {
      ingesting = false;
    });
    const during = summarise(label, 'during ingest', await probing, options.events / load.seconds);
    return [idle, during];
  } finally {
    await lethe?.server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Each backend on this build and, when `baseCli` is given, on that build right after it. */
export async function readAfterWrite(options: AfterWriteOptions, baseCli?: string): Promise<void> {
  const machine = describeMachine();
  const builds = [['', undefined], ...(baseCli ? [[', base build', baseCli]] : [])] as const;
  const runs: ProbeRun[] = [];
  for (const [suffix, cli] of builds)
    runs.push(...(await backendRuns(`SQLite${suffix}`, options, undefined, cli)));
  let postgres: string;
  try {
    postgres = await describePostgres();
    for (const [suffix, cli] of builds) {
      const url = await recreateBenchDatabase();
      try {
        runs.push(...(await backendRuns(`PostgreSQL${suffix}`, options, url, cli)));
      } finally {
        await dropBenchDatabase();
      }
    }
  } catch (error) {
    log(`PostgreSQL skipped: ${String(error)}`);
    postgres = `PostgreSQL: not measured (${String(error).slice(0, 120)})`;
  }
  writeReportSection('reads-after-write', report(runs, options, [...machine.lines, postgres], baseCli));
  log('wrote docs/benchmarks.md');
}

function report(
  runs: readonly ProbeRun[],
  options: AfterWriteOptions,
  machine: readonly string[],
  baseCli?: string,
): string {
  return [
    '### Read-after-write (`npm run bench:reads -- --after-write`)',
    '',
    'One probe publishes a batch with one use of a fresh subject and, as soon as its 200 arrives, reads ' +
      '`GET /v1/subjects/{subject}`; "reflected" counts reads that show that use. It runs alone for ' +
      `${options.seconds} s, then during an ingest load of ${formatInteger(options.events)} events ` +
      `(batches of ${formatInteger(INGEST_BATCH)}, ${INGEST_CONCURRENCY} in flight, \`LETHE_RATE_LIMIT=off\`). ` +
      `Target: every read reflects its batch; read p99 during full ingest ≤ ${TARGET_P99_MS} ms.`,
    '',
    table([
      [
        'backend',
        'probe ran',
        'probes',
        'reflected',
        'read p50 ms',
        'read p99 ms',
        'batch p99 ms',
        'ingest events/s',
        'load (1 min)',
      ],
      ...runs.map((run) => [
        run.backend,
        run.condition,
        formatInteger(run.probes),
        `${formatInteger(run.reflected)} (${((100 * run.reflected) / Math.max(1, run.probes)).toFixed(1)} %)`,
        formatMs(run.readP50Ms),
        formatMs(run.readP99Ms),
        formatMs(run.writeP99Ms),
        run.ingestPerSecond === undefined ? '–' : formatInteger(run.ingestPerSecond),
        run.load.toFixed(2),
      ]),
    ]),
    '',
    `Build: ${LETHE_BUILD}.` +
      (baseCli ? ` Base build: \`${relative(REPO_ROOT, baseCli)}\` (BENCH_BASE_CLI).` : ''),
    '',
    ...machine.map((line) => `- ${line}`),
  ].join('\n');
}

function log(message: string) {
  process.stdout.write(`[bench:reads --after-write] ${message}\n`);
}
