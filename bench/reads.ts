/**
 * `npm run bench:reads [-- --seconds N --connections N]`
 *
 * Subject reads at volume, during no ingest: `GET /v1/subjects/u-1001` with N connections (default
 * 100) for N seconds each (default 10, after a 2 s warm-up), against Lethe on SQLite, Lethe on
 * PostgreSQL (when reachable), and in-run baselines on the same machine: the naive audited read
 * (one durable insert, then the read; `baselines/naive-reads-server.ts`) and Lethe's own unaudited
 * `GET /v1/policies/{name}` (the same server, authentication and framework, no audit). Every read
 * of subject data appends a durable audit entry before it is answered; Lethe group-commits them.
 * Rewrites the reads section of docs/benchmarks.md.
 *
 * With `--after-write [--events N]`, measures read-after-write instead (`reads-after-write.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { positiveIntegerFlags } from './args.js';
import { sendJson, send } from './http-client.js';
import { applyCatalog, LETHE_BUILD, startLethe, type LetheServer } from './lethe-process.js';
import { describeMachine } from './machine.js';
import { describePostgres, dropBenchDatabase, recreateBenchDatabase } from './postgres-database.js';
import { readAfterWrite } from './reads-after-write.js';
import { table, writeReportSection } from './report.js';
import { freePort, REPO_ROOT, ServerProcess, tsxArgs } from './server-process.js';
import { formatInteger, formatMs, formatRatio, percentile } from './stats.js';

const AFTER_WRITE_FLAG = '--after-write';
const afterWrite = process.argv.includes(AFTER_WRITE_FLAG);
const options = positiveIntegerFlags(
  process.argv.slice(2).filter((argument) => argument !== AFTER_WRITE_FLAG),
  { seconds: 10, connections: 100, events: 200_000 },
);
const WARM_UP_SECONDS = 2;
const SUBJECT_PATH = '/v1/subjects/u-1001';
/**
 * BENCH_BASE_CLI=<path to another build's cli/main.js>: each backend is also measured on that
 * build right after this one, so that a change is judged by a ratio within one run.
 */
const BASE_CLI = process.env['BENCH_BASE_CLI'];

interface ReadRun {
  readonly name: string;
  readonly path: string;
  readonly requests: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Load average (1 min) when the run ended: other processes share the cores. */
  readonly load: number;
}

/** GETs `url` from `connections` keep-alive connections for `seconds`; any non-200 stops the run. */
async function readFor(url: string, headers: Record<string, string>, seconds: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latenciesMs: number[] = [];
  const until = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const started = performance.now();
      const response = await send({ method: 'GET', url, headers, agent });
      latenciesMs.push(performance.now() - started);
      if (response.status !== 200) {
        throw new Error(
          `GET ${url} answered ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`,
        );
      }
    }
  };
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: options.connections }, worker));
  } finally {
    agent.destroy();
  }
  return { seconds: (performance.now() - started) / 1000, latenciesMs };
}

async function measure(name: string, base: string, path: string, token?: string): Promise<ReadRun> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  await readFor(`${base}${path}`, headers, WARM_UP_SECONDS);
  const { seconds, latenciesMs } = await readFor(`${base}${path}`, headers, options.seconds);
  const run = {
    name,
    path,
    requests: latenciesMs.length,
    perSecond: latenciesMs.length / seconds,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    load: loadavg()[0] ?? 0,
  };
  log(`${name} ${path}: ${formatInteger(run.perSecond)} requests/s, p99 ${formatMs(run.p99Ms)} ms`);
  return run;
}

/** Lethe with the benchmark catalog and one subject, measured on the audited and an unaudited read. */
async function letheRuns(label: string, databaseUrl?: string, cli?: string): Promise<ReadRun[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-bench-reads-'));
  let lethe: LetheServer | undefined;
  try {
    // One token reads as fast as it can: the per-token limit (50/s by default) would measure itself.
    lethe = await startLethe(
      { dataDir, ...(databaseUrl ? { databaseUrl } : {}) },
      { LETHE_RATE_LIMIT: 'off' },
      cli,
    );
    await applyCatalog(lethe);
    const at = new Date().toISOString();
    const event = {
      subject: 'u-1001',
      system: 'accounts',
      policy: 'user-account-access',
      fields: ['accounts.email'],
      at,
    };
    await sendJson('POST', `${lethe.server.url}/v1/events`, lethe.token, { events: [event] });
    return [
      await measure(`Lethe (${label}), audited`, lethe.server.url, SUBJECT_PATH, lethe.token),
      await measure(
        `Lethe (${label}), no audit`,
        lethe.server.url,
        '/v1/policies/user-account-access',
        lethe.token,
      ),
    ];
  } finally {
    await lethe?.server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function naiveRun(): Promise<ReadRun> {
  const directory = mkdtempSync(join(tmpdir(), 'lethe-bench-naive-reads-'));
  const port = await freePort();
  const server = await ServerProcess.start({
    name: 'naive reads',
    args: tsxArgs('./baselines/naive-reads-server.ts', [
      '--port',
      String(port),
      '--file',
      join(directory, 'naive.db'),
    ]),
    port,
    logFile: join(directory, 'server.log'),
  });
  try {
    return await measure('naive SQLite (one durable insert per read)', server.url, SUBJECT_PATH);
  } finally {
    await server.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Lethe on SQLite and, when `BASE_CLI` is set, the base build right after it. */
async function sqliteRuns(): Promise<ReadRun[]> {
  const runs = await letheRuns('SQLite');
  if (BASE_CLI) runs.push(...(await letheRuns('SQLite, base build', undefined, BASE_CLI)));
  return runs;
}

async function postgresRuns(): Promise<{ runs: ReadRun[]; description: string }> {
  try {
    const description = await describePostgres();
    const runs: ReadRun[] = [];
    for (const [label, cli] of [
      ['PostgreSQL', undefined],
      ...(BASE_CLI ? [['PostgreSQL, base build', BASE_CLI]] : []),
    ] as const) {
      const url = await recreateBenchDatabase();
      try {
        runs.push(...(await letheRuns(label, url, cli)));
      } finally {
        await dropBenchDatabase();
      }
    }
    return { runs, description };
  } catch (error) {
    log(`PostgreSQL skipped: ${String(error)}`);
    return { runs: [], description: `PostgreSQL: not measured (${String(error).slice(0, 120)})` };
  }
}

async function main() {
  const machine = describeMachine();
  const before = loadavg()[0] ?? 0;
  const naive = await naiveRun();
  const sqlite = await sqliteRuns();
  const postgres = await postgresRuns();
  const runs = [naive, ...sqlite, ...postgres.runs];
  writeReportSection('reads', report(runs, naive, [...machine.lines, postgres.description], before));
  log('wrote docs/benchmarks.md');
}

function report(
  runs: readonly ReadRun[],
  naive: ReadRun,
  machine: readonly string[],
  loadBefore: number,
): string {
  return [
    '## Subject reads (`npm run bench:reads`)',
    '',
    `\`GET ${SUBJECT_PATH}\` with ${options.connections} keep-alive connections for ${options.seconds} s ` +
      `(after ${WARM_UP_SECONDS} s of warm-up), during no ingest, \`LETHE_RATE_LIMIT=off\`. Every Lethe read of subject data ` +
      'appends a durable, hash-chained audit entry before it answers; concurrent reads share one commit. ' +
      'Targets: ≥ 5,000 requests/s, p99 ≤ 20 ms. The rows are one run on a shared machine: compare ' +
      'them with each other, not with other runs.',
    '',
    table([
      ['server', 'path', 'requests', 'requests/s', 'vs naive', 'p50 ms', 'p99 ms', 'load (1 min)'],
      ...runs.map((run) => [
        run.name,
        `\`${run.path}\``,
        formatInteger(run.requests),
        formatInteger(run.perSecond),
        formatRatio(run.perSecond / naive.perSecond),
        formatMs(run.p50Ms),
        formatMs(run.p99Ms),
        run.load.toFixed(2),
      ]),
    ]),
    '',
    `Load average (1 min) before the first run: ${loadBefore.toFixed(2)}. Build: ${LETHE_BUILD}.` +
      (BASE_CLI ? ` Base build: \`${relative(REPO_ROOT, BASE_CLI)}\` (BENCH_BASE_CLI).` : ''),
    '',
    ...machine.map((line) => `- ${line}`),
  ].join('\n');
}

function log(message: string) {
  process.stdout.write(`[bench:reads] ${message}\n`);
}

if (afterWrite) await readAfterWrite({ events: options.events, seconds: options.seconds }, BASE_CLI);
else await main();
