/**
 * `npm run bench:requests [-- --rows N --matches N --runs N --clients N --latency-ms N --fanout-runs N]`
 *
 * Two measurements of privacy rights requests, on loopback only:
 *
 * 1. a delete_pii of `--matches` rows among `--rows` in a PostgreSQL database of its own
 *    (127.0.0.1:5432, or BENCH_POSTGRES_URL's server; created and dropped by the run): Lethe's
 *    SQL connector alone, inside Lethe end to end, a row-by-row script and a single UPDATE,
 *    each `--runs` times, plus a DSAR read of the same rows;
 * 2. a delete and a DSAR fanned out to `--clients` HTTP rights clients that each answer after
 *    `--latency-ms`, through an in-process Lethe, against the naive loop calling them in turn.
 *
 * Rewrites the `requests` section of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { positiveIntegerFlags } from './args.js';
import { describeMachine } from './machine.js';
import { describePostgres } from './postgres-database.js';
import { writeReportSection } from './report.js';
import {
  fanoutEmail,
  setUpFanout,
  timeLetheFanout,
  timeNaiveFanout,
  type FanoutSetup,
} from './requests-fanout.js';
import {
  api,
  fileAndWait,
  POLL_MS,
  REQUEST_TICK_MS,
  startBenchLethe,
  type BenchLethe,
} from './requests-lethe.js';
import {
  CONNECTOR,
  connectorReadPlan,
  RequestsDatabase,
  TARGET_EMAIL,
  timeConnector,
  timeFloor,
  timeNaive,
  URL_ENV,
  type LoadOutcome,
} from './requests-postgres.js';
import { requestsReport, type FanoutKind, type PostgresPhase } from './requests-report.js';
import { REPO_ROOT } from './server-process.js';
import { formatInteger, formatMs, percentile, secondsSince } from './stats.js';
import { DEFAULT_REQUEST_SETTINGS } from '../packages/server/src/requests/request-settings.js';

const options = positiveIntegerFlags(process.argv.slice(2), {
  rows: 1_000_000,
  matches: 10_000,
  runs: 5,
  clients: 50,
  'latency-ms': 50,
  'fanout-runs': 10,
});

async function main() {
  const started = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const machine = describeMachine([
    await describePostgres(),
    `Lethe: \`packages/server/src\` at ${sourceRevision()}, run in the benchmark's process by tsx`,
  ]);
  const postgres = await benchPostgres();
  const fanout = await benchFanout();
  writeReportSection(
    'requests',
    requestsReport({
      machine: [
        ...machine.lines,
        `Load average (1 min) at the start / end of the run: ${loadAtStart.toFixed(2)} / ${(loadavg()[0] ?? 0).toFixed(2)} ` +
          '(anything above 0 is other work sharing the CPUs)',
      ],
      options,
      ...postgres,
      fanout,
      concurrency: DEFAULT_REQUEST_SETTINGS.concurrency,
      pollMs: POLL_MS,
      tickMs: REQUEST_TICK_MS,
    }),
  );
  log(`wrote docs/benchmarks.md in ${secondsSince(started).toFixed(0)} s`);
}

// Part 1: PostgreSQL ------------------------------------------------------------------------

async function benchPostgres(): Promise<{
  load: LoadOutcome;
  lowerIndexSeconds: number;
  phases: PostgresPhase[];
}> {
  const { rows, matches, runs } = options;
  const database = new RequestsDatabase();
  await database.create();
  let server: BenchLethe | undefined;
  try {
    log(`loading ${formatInteger(rows)} rows into ${database.name}…`);
    const load = await database.load(rows, matches);
    log(
      `loaded in ${load.seconds.toFixed(1)} s (table ${formatInteger(load.tableMiB)} MiB, indexes ${formatInteger(load.indexMiB)} MiB)`,
    );
    server = await startBenchLethe({ [URL_ENV]: database.url });
    await api(server, 'PUT', '/v1/connectors/bench', CONNECTOR);

    const phases: PostgresPhase[] = [];
    let lowerIndexSeconds = 0;
    for (const indexes of ['Index on `email` only', 'Indexes on `email` and `lower(email)`']) {
      if (phases.length === 1) {
        lowerIndexSeconds = await database.addLowerEmailIndex();
        log(`index on lower(email) built in ${lowerIndexSeconds.toFixed(1)} s`);
      }
      const readPlan = await connectorReadPlan(database.admin);
      log(`${indexes}; connector page read: ${readPlan}`);
      phases.push(await postgresPhase(database, server, indexes, readPlan, phases.length, runs, matches));
    }
    return { load, lowerIndexSeconds, phases };
  } finally {
    await server?.close();
    await database.drop();
  }
}

async function postgresPhase(
  database: RequestsDatabase,
  server: BenchLethe,
  indexes: string,
  readPlan: string,
  phaseIndex: number,
  runs: number,
  matches: number,
): Promise<PostgresPhase> {
  const samples = { connector: [], lethe: [], letheAttempt: [], naive: [], floor: [], dsar: [] } as Record<
    'connector' | 'lethe' | 'letheAttempt' | 'naive' | 'floor' | 'dsar',
    number[]
  >;
  const rssGrowth: number[] = [];
  const walBytes: Record<string, number[]> = { connector: [], lethe: [], naive: [], floor: [], dsar: [] };
  // The connector and Lethe count the target events and their notes.
  const reached = 2 * matches;
  const expect = (label: string, actual: number, expected = matches) => {
    if (actual !== expected)
      throw new Error(`${label} changed or found ${actual} rows, expected ${expected}`);
  };
  const deletes = {
    connector: async (timed: boolean) => {
      const measure = await timeConnector(database.url, 'delete_pii');
      expect('connector', measure.rowsChanged, reached);
      expect('connector (found)', measure.rowsFound, reached);
      if (timed) {
        samples.connector.push(measure.ms);
        rssGrowth.push(measure.rssGrowthBytes);
      }
      return measure.ms;
    },
    lethe: async (timed: boolean, round: number) => {
      const { ms, request } = await fileAndWait(server, {
        id: `pii-${phaseIndex}-${round + 1}`,
        type: 'delete_pii',
        identifiers: { email: TARGET_EMAIL },
      });
      expect('Lethe', request.rowsFound, reached);
      const attempt = request.tasks?.[0]?.attemptLog[0];
      if (request.tasks?.length !== 1 || attempt?.finishedAt === undefined) {
        throw new Error(`request ${request.id}: expected one finished connector task`);
      }
      if (timed) {
        samples.lethe.push(ms);
        samples.letheAttempt.push(Date.parse(attempt.finishedAt) - Date.parse(attempt.startedAt));
      }
      return ms;
    },
    naive: async (timed: boolean) => {
      const measure = await timeNaive(database.url);
      expect('naive', measure.rowsChanged);
      if (timed) samples.naive.push(measure.ms);
      return measure.ms;
    },
    floor: async (timed: boolean) => {
      const measure = await timeFloor(database.url);
      expect('floor', measure.rowsChanged);
      if (timed) samples.floor.push(measure.ms);
      return measure.ms;
    },
  };
  const names = Object.keys(deletes) as (keyof typeof deletes)[];
  await database.settle();
  // Round -1 is the warm-up: every way runs once, untimed.
  for (let round = -1; round < runs; round++) {
    const timed = round >= 0;
    const order = names.map((_, i) => names[(i + Math.max(0, round)) % names.length] as keyof typeof deletes);
    const line: string[] = [];
    for (const name of order) {
      const wal = await database.walPosition();
      const took = await deletes[name](timed, round);
      if (timed) walBytes[name]?.push(Number((await database.walPosition()) - wal));
      await database.verifyClearedAndRestore(matches, name);
      line.push(`${name} ${formatMs(took)} ms`);
    }
    const wal = await database.walPosition();
    const dsar = await timeConnector(database.url, 'dsar');
    expect('dsar', dsar.rowsFound, reached);
    if (timed) {
      samples.dsar.push(dsar.ms);
      walBytes['dsar']?.push(Number((await database.walPosition()) - wal));
    }
    line.push(`dsar ${formatMs(dsar.ms)} ms`);
    log(`${timed ? `round ${round + 1}` : 'warm-up'}: ${line.join(', ')}`);
  }
  return {
    indexes,
    readPlan,
    connector: { label: '**connector** delete_pii (records counted)', samples: samples.connector },
    letheAttempt: {
      label: '**Lethe, connector task** (records stored)',
      samples: samples.letheAttempt,
    },
    lethe: { label: '**Lethe, end to end** (POST → completed)', samples: samples.lethe },
    naive: { label: '**naive**: row-by-row UPDATE', samples: samples.naive },
    floor: { label: '**floor**: one statement', samples: samples.floor },
    dsar: { label: '**connector** dsar (read of the same rows)', samples: samples.dsar },
    rssGrowth,
    walBytes,
  };
}

// Part 2: fan-out ----------------------------------------------------------------------------

async function benchFanout(): Promise<FanoutKind[]> {
  const { clients, 'fanout-runs': runs } = options;
  const latency = options['latency-ms'];
  const kinds = ['delete', 'dsar'] as const;
  const emails = [...kinds, ...kinds.map((kind) => `naive-${kind}`)].flatMap((kind) =>
    Array.from({ length: runs + 1 }, (_, run) => fanoutEmail(kind, run)),
  );
  const server = await startBenchLethe();
  let setup: FanoutSetup | undefined;
  try {
    setup = await setUpFanout(server, clients, latency, emails);
    log(`${clients} HTTP rights clients (latency ${latency} ms) and systems registered`);
    const results = kinds.map((type) => ({
      type,
      lethe: [] as number[],
      naive: [] as number[],
      attempt: [] as number[],
    }));
    // Run `runs` is the warm-up (its emails are the last ones), untimed.
    for (const run of [runs, ...Array.from({ length: runs }, (_, i) => i)]) {
      const timed = run !== runs;
      const line: string[] = [];
      for (const result of results) {
        const lethe = await timeLetheFanout(
          server,
          setup,
          result.type,
          `fanout-${result.type}-${run}`,
          fanoutEmail(result.type, run),
        );
        const naive = await timeNaiveFanout(
          setup,
          result.type,
          `naive-${result.type}-${run}`,
          fanoutEmail(`naive-${result.type}`, run),
        );
        if (timed) {
          result.lethe.push(lethe.ms);
          result.naive.push(naive);
          result.attempt.push(lethe.meanAttemptMs);
        }
        line.push(
          `${result.type}: Lethe ${formatMs(lethe.ms)} ms (call ${formatMs(lethe.meanAttemptMs)} ms), naive ${formatMs(naive)} ms`,
        );
      }
      log(`${timed ? `run ${run + 1}` : 'warm-up'}: ${line.join('; ')}`);
    }
    for (const result of results) {
      log(
        `${result.type}: Lethe median ${formatMs(percentile(result.lethe, 50))} ms, naive median ${formatMs(percentile(result.naive, 50))} ms`,
      );
    }
    return results.map((result) => ({
      type: result.type,
      lethe: { label: `**Lethe** ${result.type}, ${clients} clients`, samples: result.lethe },
      naive: { label: `**naive loop** ${result.type}`, samples: result.naive },
      meanAttemptMs: result.attempt,
    }));
  } finally {
    await setup?.close();
    await server.close();
  }
}

/** The commit the sources are at, and whether packages/ differs from it. */
function sourceRevision(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'packages') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with local changes in packages/' : ''}`;
  } catch {
    return 'an unknown commit';
  }
}

function log(message: string) {
  process.stdout.write(`[bench:requests] ${message}\n`);
}

await main();
