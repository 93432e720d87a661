/**
 * `npm run bench:ingest [-- --events N --subjects N --batch N --concurrency N]`
 *
 * Sends the same pre-serialised batches to four servers in turn — a parse-only ceiling, a naive
 * SQLite design, Lethe on SQLite, Lethe on PostgreSQL — checks that each stored what it was
 * sent, and rewrites the ingest section of docs/benchmarks.md.
 *
 * `npm run bench:ingest -- --consent [--events N …]` instead measures the consent check of the
 * hot path (docs/consent.md): Lethe on SQLite and on PostgreSQL, each with no consent-based
 * policy, with every policy consent-based and every subject consented, and with nobody
 * consented; 200,000 events about 20,000 subjects unless told otherwise (a few minutes), and
 * rewrites its own block of the ingest section.
 *
 * `npm run bench:ingest -- --postgres [--events N …]` runs only the naive baseline and Lethe on
 * PostgreSQL and prints their figures without rewriting docs/benchmarks.md (for working on the
 * PostgreSQL fold).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { positiveIntegerFlags } from './args.js';
import { consentComparison } from './ingest-consent.js';
import { consentReport } from './ingest-consent-report.js';
import { measureIngest, type IngestMeasurement } from './ingest-measure.js';
import { ingestReport, type IngestRun } from './ingest-report.js';
import { applyCatalog, LETHE_BUILD, startLethe, type LetheServer } from './lethe-process.js';
import { describeMachine } from './machine.js';
import {
  describePostgres,
  dropBenchDatabase,
  recreateBenchDatabase,
  walCounters,
  walSince,
  withClient,
  type WalCounters,
} from './postgres-database.js';
import { writeReportSection } from './report.js';
import { freePort, ServerProcess, tsxArgs } from './server-process.js';
import { sendJson } from './http-client.js';
import { formatInteger, secondsSince } from './stats.js';
import {
  checkAnswers,
  checkCounts,
  checkSampleSubjects,
  openSqliteCounts,
  STORED_COUNTS_SQL,
  storedCounts,
  type StoredCounts,
} from './verify-ingest.js';
import { generateWorkload, type Workload } from './workload.js';

const CONSENT_FLAG = '--consent';
const POSTGRES_FLAG = '--postgres';
const consentOnly = process.argv.includes(CONSENT_FLAG);
const postgresOnly = process.argv.includes(POSTGRES_FLAG);
// The consent comparison runs six loads, so it defaults to a fifth of the events, keeping 10
// events per subject like the full run.
const options = positiveIntegerFlags(
  process.argv.slice(2).filter((argument) => argument !== CONSENT_FLAG && argument !== POSTGRES_FLAG),
  {
    events: consentOnly ? 200_000 : 1_000_000,
    subjects: consentOnly ? 20_000 : 100_000,
    batch: 1_000,
    concurrency: 4,
  },
);
const JSON_HEADERS = { 'content-type': 'application/json' };

async function main() {
  const loadAtStart = loadavg()[0] ?? 0;
  const now = Date.now();
  const generating = performance.now();
  const workload = generateWorkload({ ...options, now });
  const bodyBytes = workload.bodies.reduce((sum, body) => sum + body.length, 0);
  log(
    `generated ${workload.bodies.length} batches (${formatInteger(bodyBytes / 2 ** 20)} MiB) in ${secondsSince(generating).toFixed(1)} s`,
  );
  const machine = describeMachine([await describePostgres()]);
  if (consentOnly) {
    const comparison = { ...options, now, log };
    const runs = [
      ...(await consentComparison('sqlite', workload, comparison)),
      ...(await consentComparison('postgres', workload, comparison)),
    ];
    writeReportSection(
      'ingest-consent',
      consentReport(
        machine,
        { ...options, fieldUses: workload.expected.fieldUses, loadAtStart, loadAtEnd: loadavg()[0] ?? 0 },
        runs,
        LETHE_BUILD,
      ),
    );
    log('wrote the consent block of docs/benchmarks.md');
    return;
  }

  if (postgresOnly) {
    const naive = await naiveRun(workload);
    const postgres = await lethePostgresRun(workload);
    log(
      `Lethe, PostgreSQL: ${(postgres.eventsPerSecond / naive.eventsPerSecond).toFixed(2)}× naive acknowledged`,
    );
    log(`verified: ${postgres.verified}`);
    if (postgres.wal) log(`WAL: ${JSON.stringify(postgres.wal)}`);
    return;
  }
  const runs = [
    await ceilingRun(workload),
    await naiveRun(workload),
    await letheSqliteRun(workload),
    await lethePostgresRun(workload),
  ];
  writeReportSection(
    'ingest',
    ingestReport(
      machine,
      { ...options, fieldUses: workload.expected.fieldUses, bodyBytes },
      runs,
      LETHE_BUILD,
    ),
  );
  log('wrote docs/benchmarks.md');
}

async function ceilingRun(workload: Workload): Promise<IngestRun> {
  const directory = mkdtempSync(join(tmpdir(), 'lethe-bench-ceiling-'));
  try {
    const port = await freePort();
    const server = await ServerProcess.start({
      name: 'ceiling',
      args: tsxArgs('./baselines/ceiling-server.ts', ['--port', String(port)]),
      port,
      logFile: join(directory, 'server.log'),
    });
    try {
      const measured = await load(server, workload, JSON_HEADERS);
      checkAnswers(measured.answers, workload.expected);
      return finish('ceiling', 'ceiling (parse only)', measured, 'every event acknowledged');
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function naiveRun(workload: Workload): Promise<IngestRun> {
  const directory = mkdtempSync(join(tmpdir(), 'lethe-bench-naive-'));
  const file = join(directory, 'naive.db');
  try {
    const port = await freePort();
    const server = await ServerProcess.start({
      name: 'naive',
      args: tsxArgs('./baselines/naive-sqlite-server.ts', ['--port', String(port), '--file', file]),
      port,
      logFile: join(directory, 'server.log'),
    });
    let measured: IngestMeasurement;
    try {
      measured = await load(server, workload, JSON_HEADERS);
      checkAnswers(measured.answers, workload.expected);
    } finally {
      await server.stop();
    }
    const connection = new BetterSqlite3(file, { readonly: true });
    const rows = (connection.prepare('select count(*) as n from field_uses').get() as { n: number }).n;
    connection.close();
    if (rows !== workload.expected.fieldUses) {
      throw new Error(`the naive table holds ${rows} rows, expected ${workload.expected.fieldUses}`);
    }
    return finish(
      'naive',
      'naive SQLite',
      measured,
      `table holds ${formatInteger(rows)} rows = Σ fields per event`,
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function letheSqliteRun(workload: Workload): Promise<IngestRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-bench-sqlite-'));
  try {
    const lethe = await startLethe({ dataDir });
    let run: IngestRun;
    try {
      run = await letheRun('sqlite', 'Lethe, SQLite', lethe, workload);
    } finally {
      await lethe.server.stop();
    }
    const connection = openSqliteCounts(dataDir);
    const counts = storedCounts(connection.prepare(STORED_COUNTS_SQL).get() as Record<string, unknown>);
    connection.close();
    checkCounts(counts, workload.expected);
    return { ...run, verified: `${run.verified}, ${countsText(counts)}` };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function lethePostgresRun(workload: Workload): Promise<IngestRun> {
  const databaseUrl = await recreateBenchDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-bench-postgres-'));
  try {
    const lethe = await startLethe({ dataDir, databaseUrl });
    let run: IngestRun;
    try {
      run = await letheRun('postgres', 'Lethe, PostgreSQL', lethe, workload);
    } finally {
      await lethe.server.stop();
    }
    const counts = await withClient(databaseUrl, async (client) =>
      storedCounts((await client.query<Record<string, unknown>>(STORED_COUNTS_SQL)).rows[0]),
    );
    checkCounts(counts, workload.expected);
    return { ...run, verified: `${run.verified}, ${countsText(counts)}` };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    await dropBenchDatabase();
  }
}

async function letheRun(key: 'sqlite' | 'postgres', name: string, lethe: LetheServer, workload: Workload) {
  await applyCatalog(lethe);
  const headers = { ...JSON_HEADERS, authorization: `Bearer ${lethe.token}` };
  const walBefore = key === 'postgres' ? await walCounters() : undefined;
  const measured = await load(lethe.server, workload, headers, key === 'postgres');
  checkAnswers(measured.answers, workload.expected);
  let fold = await awaitFold(lethe, workload.expected.events, measured.seconds);
  if (walBefore)
    fold += `, ${walPerEvent(walSince(walBefore, await walCounters()), workload.expected.events)}`;
  const sampled = await checkSampleSubjects(lethe.server.url, lethe.token, workload.expected);
  return finish(
    key,
    name,
    measured,
    `accepted = sent, ${fold}, ${sampled} sample subjects match field by field`,
  );
}

/**
 * Acknowledged is not folded: waits (without reading anything that would drain the journal) until
 * the background fold has applied every event, polling `/readyz`, and states the fold's sustained
 * rate over the whole run (load and catching up) and the greatest lag seen after the load.
 */
async function awaitFold(lethe: LetheServer, events: number, loadSeconds: number): Promise<string> {
  const started = performance.now();
  let maxLag = 0;
  for (;;) {
    const ready = await sendJson<{ usageJournal: { backlogEvents: number; lagSeconds: number } }>(
      'GET',
      `${lethe.server.url}/readyz`,
      lethe.token,
    );
    maxLag = Math.max(maxLag, ready.usageJournal.lagSeconds);
    if (ready.usageJournal.backlogEvents === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const drainSeconds = secondsSince(started);
  const rate = events / (loadSeconds + drainSeconds);
  log(
    `  fold caught up ${drainSeconds.toFixed(1)} s after the last ack: ${formatInteger(rate)} events/s sustained`,
  );
  return (
    `the background fold caught up ${drainSeconds.toFixed(1)} s after the last acknowledgement ` +
    `(${formatInteger(rate)} events/s folded over the run, lag at the end of the load ${maxLag.toFixed(1)} s)`
  );
}

function load(
  server: ServerProcess,
  workload: Workload,
  headers: Record<string, string>,
  withPostgres = false,
) {
  return measureIngest({
    server,
    bodies: workload.bodies,
    events: options.events,
    concurrency: options.concurrency,
    headers,
    withPostgres,
  });
}

function finish(
  key: IngestRun['key'],
  name: string,
  measured: IngestMeasurement,
  verified: string,
): IngestRun {
  log(
    `${name}: ${formatInteger(measured.eventsPerSecond)} events/s, p50 ${measured.p50Ms.toFixed(1)} ms, ` +
      `p99 ${measured.p99Ms.toFixed(1)} ms, ${measured.seconds.toFixed(1)} s`,
  );
  return { ...measured, key, name, verified };
}

/** PostgreSQL's WAL over the load and the fold's catching up: what the whole path writes per event. */
function walPerEvent(wal: WalCounters, events: number): string {
  return (
    `WAL over the load and the fold ${(wal.records / events).toFixed(1)} records and ` +
    `${(wal.bytes / events / 1024).toFixed(1)} KiB per event`
  );
}

function countsText(counts: StoredCounts): string {
  return (
    `the store holds ${formatInteger(counts.events)} event ids, ${formatInteger(counts.fieldUses)} uses, ` +
    `${formatInteger(counts.subjectFields)} subject-fields and ${formatInteger(counts.subjects)} subjects, as the workload implies`
  );
}

function log(message: string) {
  process.stdout.write(`[bench:ingest] ${message}\n`);
}

await main();
