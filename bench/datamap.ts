/**
 * `npm run bench:datamap [-- --systems N --flows N --teams N --seed N --requests N --broad-requests N
 *   --warm-ups N --naive-runs N]`
 *
 * Writes a synthetic data map (5,000 systems, 50,000 flows by default) straight into a fresh
 * SQLite store, starts Lethe on it, times the graph, holders and destinations queries over HTTP
 * against the HTTP floor (`/healthz`) and a script that answers the same questions from the
 * tables without an index, and rewrites the datamap section of docs/benchmarks.md.
 *
 * BENCH_DATAMAP_BASELINE=<another build's cli/main.js> also starts that build on a copy of the same
 * store and times each query on it right after Lethe's, so a change is judged against its baseline
 * in the same run (same machine, same load); the baseline must know every query (summary and paging
 * exist since 828cf1e).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { positiveIntegerFlags } from './args.js';
import { generateDataMap } from './datamap-dataset.js';
import { loadDataMap } from './datamap-load.js';
import { NaiveDataMap, type NaiveQuery } from './datamap-naive.js';
import { dataMapReport, type QueryResult, type Timing } from './datamap-report.js';
import { send } from './http-client.js';
import { LETHE_BUILD, startLethe, type LetheServer } from './lethe-process.js';
import { describeMachine } from './machine.js';
import { seededRandom } from './random.js';
import { writeReportSection } from './report.js';
import { formatInteger, formatMs, percentile, secondsSince } from './stats.js';

const options = positiveIntegerFlags(process.argv.slice(2), {
  systems: 5_000,
  flows: 50_000,
  teams: 100,
  seed: 42,
  requests: 100,
  'broad-requests': 30,
  'warm-ups': 5,
  'naive-runs': 20,
});

/** One query of the table: its URL and the no-index script's version of it, for request `i`. */
interface QuerySpec {
  readonly label: string;
  readonly filtered: boolean;
  /** Answers of megabytes: timed `--broad-requests` times instead of `--requests`, to bound the run. */
  readonly broad?: boolean;
  readonly path: (i: number) => string;
  readonly naive: (i: number) => NaiveQuery;
}

const BASELINE_CLI = process.env['BENCH_DATAMAP_BASELINE'];
/** A position among the transmit edges of `category=user`, about half way through the systems. */
const MIDDLE_CURSOR = 'transmit:system:svc-02500->system:';

async function main() {
  const machine = describeMachine();
  const loadAtStart = loadavg()[0] ?? 0;
  const now = Date.now();
  const generating = performance.now();
  const snapshot = generateDataMap({ ...options, now });
  log(
    `generated ${formatInteger(snapshot.systems.length)} systems, ${formatInteger(snapshot.flows.length)} flows, ` +
      `${formatInteger(snapshot.observations.length)} observations in ${secondsSince(generating).toFixed(1)} s`,
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-bench-datamap-'));
  const baselineDir = BASELINE_CLI ? mkdtempSync(join(tmpdir(), 'lethe-bench-datamap-baseline-')) : undefined;
  try {
    const load = await loadDataMap({ dataDir }, snapshot, now);
    log(`loaded in ${load.seconds.toFixed(1)} s: ${JSON.stringify(load.rows)}`);
    if (baselineDir) await loadDataMap({ dataDir: baselineDir }, snapshot, now);

    // The default 50 requests/s per token would throttle a client that sends one request at a time.
    process.env['LETHE_RATE_LIMIT'] = 'off';
    const lethe = await startLethe({ dataDir });
    const baseline =
      baselineDir && BASELINE_CLI ? await startLethe({ dataDir: baselineDir }, {}, BASELINE_CLI) : undefined;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const baselineAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const specs = querySpecs(
      snapshot.teams.map((team) => team.name),
      snapshot.systems.map((s) => s.name),
    );
    let coldMs: number;
    let floor: Timing;
    let peakRssKiB: number;
    const timings: ({ spec: QuerySpec; baseline?: Timing } & Measured)[] = [];
    const coldPath = `/v1/datamap/graph?team=${snapshot.teams[0]?.name ?? ''}`;
    try {
      const cold = await get(lethe, agent, coldPath);
      coldMs = cold.ms;
      log(`cold (index build) ${coldPath}: ${formatMs(coldMs)} ms`);
      if (baseline) log(`baseline cold: ${formatMs((await get(baseline, baselineAgent, coldPath)).ms)} ms`);
      floor = (await timeRequests(lethe, agent, () => '/healthz', options.requests, false)).timing;
      log(`/healthz: p50 ${formatMs(floor.p50Ms)} ms, p99 ${formatMs(floor.p99Ms)} ms`);
      for (const spec of specs) {
        const requests = spec.broad ? options['broad-requests'] : options.requests;
        const measured = await timeRequests(lethe, agent, spec.path, requests, true);
        const before = baseline
          ? (await timeRequests(baseline, baselineAgent, spec.path, requests, false)).timing
          : undefined;
        timings.push({ spec, ...measured, ...(before ? { baseline: before } : {}) });
        log(
          `${spec.label}: p50 ${formatMs(measured.timing.p50Ms)} ms, p99 ${formatMs(measured.timing.p99Ms)} ms, ` +
            `${formatInteger(measured.bodyBytes)} B, ${formatInteger(measured.items)} edges/items` +
            (before ? `; baseline p50 ${formatMs(before.p50Ms)} ms, p99 ${formatMs(before.p99Ms)} ms` : ''),
        );
      }
      peakRssKiB = lethe.server.stats().peakRssKiB;
    } finally {
      agent.destroy();
      baselineAgent.destroy();
      await lethe.server.stop();
      await baseline?.server.stop();
    }

    const naive = new NaiveDataMap(join(dataDir, 'lethe.db'));
    const queries: QueryResult[] = [];
    try {
      for (const { spec, timing: letheTiming, bodyBytes, items, baseline: before } of timings) {
        const naiveTiming = await timeNaive(naive, spec, now);
        log(`no index, ${spec.label}: p50 ${formatMs(naiveTiming.p50Ms)} ms`);
        queries.push({
          label: spec.label,
          filtered: spec.filtered,
          lethe: letheTiming,
          bodyBytes,
          items,
          naive: naiveTiming,
          ...(before ? { baseline: before } : {}),
        });
      }
    } finally {
      await naive.close();
    }

    writeReportSection(
      'datamap',
      dataMapReport({
        machine,
        options,
        snapshot: {
          fields: snapshot.systems.reduce((sum, system) => sum + system.fields.length, 0),
          clients: snapshot.clients.length,
          observations: snapshot.observations.length,
          stale: snapshot.observations.filter((observation) => observation.stale).length,
        },
        load,
        coldMs,
        coldLabel: `\`GET ${coldPath}\``,
        floor,
        queries,
        warmUps: options['warm-ups'],
        broadRequests: options['broad-requests'],
        peakRssKiB,
        loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
        build: LETHE_BUILD,
        ...(BASELINE_CLI ? { baselineBuild: BASELINE_CLI } : {}),
      }),
    );
    log('wrote docs/benchmarks.md');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    if (baselineDir) rmSync(baselineDir, { recursive: true, force: true });
  }
}

/** The queries of the table; teams and systems are drawn from the map in a fixed shuffled order. */
function querySpecs(teams: readonly string[], systems: readonly string[]): QuerySpec[] {
  const random = seededRandom(options.seed + 1);
  const shuffled = (names: readonly string[]) =>
    names
      .map((name) => ({ name, key: random() }))
      .sort((a, b) => a.key - b.key)
      .map(({ name }) => name);
  const teamOrder = shuffled(teams);
  const systemOrder = shuffled(systems);
  const team = (i: number) => teamOrder[i % teamOrder.length] as string;
  const system = (i: number) => systemOrder[i % systemOrder.length] as string;
  const graph = '/v1/datamap/graph';
  return [
    {
      label: '`graph?team=…`',
      filtered: true,
      path: (i) => `${graph}?team=${team(i)}`,
      naive: (i) => ({ kind: 'graph', team: team(i) }),
    },
    {
      label: '`graph?system=…`',
      filtered: true,
      path: (i) => `${graph}?system=${system(i)}`,
      naive: (i) => ({ kind: 'graph', system: system(i) }),
    },
    ...['user.health', 'user.contact.email'].map((category): QuerySpec => ({
      label: `\`graph?category=${category}\``,
      filtered: true,
      path: () => `${graph}?category=${category}`,
      naive: () => ({ kind: 'graph', category }),
    })),
    {
      label: '`graph?team=…&category=user.contact`',
      filtered: true,
      path: (i) => `${graph}?team=${team(i)}&category=user.contact`,
      naive: (i) => ({ kind: 'graph', team: team(i), category: 'user.contact' }),
    },
    {
      label: '`graph?category=user` (broad)',
      filtered: true,
      broad: true,
      path: () => `${graph}?category=user`,
      naive: () => ({ kind: 'graph', category: 'user' }),
    },
    ...['user.health', 'user'].flatMap((category): QuerySpec[] => [
      {
        label: `\`graph?category=${category}&summary=true\``,
        filtered: true,
        path: () => `${graph}?category=${category}&summary=true`,
        naive: () => ({ kind: 'graph', category }),
      },
      {
        label: `\`graph?category=${category}&limit=1000\` (first page)`,
        filtered: true,
        path: () => `${graph}?category=${category}&limit=1000`,
        naive: () => ({ kind: 'graph', category }),
      },
    ]),
    {
      // A page from the middle of the transmit edges: the cursor is found by binary search.
      label: '`graph?category=user&limit=1000&after=…` (a middle page)',
      filtered: true,
      path: () => `${graph}?category=user&limit=1000&after=${encodeURIComponent(MIDDLE_CURSOR)}`,
      naive: () => ({ kind: 'graph', category: 'user' }),
    },
    {
      label: '`graph` (no filter: the whole map)',
      filtered: false,
      broad: true,
      path: () => graph,
      naive: () => ({ kind: 'graph' }),
    },
    {
      label: '`holders?category=user.financial`',
      filtered: true,
      path: () => '/v1/datamap/holders?category=user.financial',
      naive: () => ({ kind: 'holders', category: 'user.financial' }),
    },
    {
      label: '`systems/…/destinations?category=user.contact`',
      filtered: true,
      path: (i) => `/v1/datamap/systems/${system(i)}/destinations?category=user.contact`,
      naive: (i) => ({ kind: 'destinations', system: system(i), category: 'user.contact' }),
    },
  ];
}

interface Measured {
  readonly timing: Timing;
  /** Median answer size, bytes. */
  readonly bodyBytes: number;
  /** Edges or items in the first timed answer. */
  readonly items: number;
}

/** Warm-ups, then `requests` timed requests one at a time. */
async function timeRequests(
  lethe: LetheServer,
  agent: Agent,
  path: (i: number) => string,
  requests: number,
  count: boolean,
): Promise<Measured> {
  const warmUps = options['warm-ups'];
  for (let i = 0; i < warmUps; i++) await get(lethe, agent, path(requests + i));
  const times: number[] = [];
  const sizes: number[] = [];
  let items = 0;
  for (let i = 0; i < requests; i++) {
    const answer = await get(lethe, agent, path(i));
    times.push(answer.ms);
    sizes.push(answer.body.length);
    if (i === 0 && count) items = countOf(answer.body);
  }
  return {
    timing: { count: times.length, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) },
    bodyBytes: percentile(sizes, 50),
    items,
  };
}

async function get(lethe: LetheServer, agent: Agent, path: string): Promise<{ ms: number; body: Buffer }> {
  const started = performance.now();
  const response = await send({
    method: 'GET',
    url: `${lethe.server.url}${path}`,
    headers: { authorization: `Bearer ${lethe.token}` },
    agent,
  });
  const ms = performance.now() - started;
  if (response.status !== 200) {
    throw new Error(
      `GET ${path} answered ${response.status}: ${response.body.toString('utf8').slice(0, 500)}`,
    );
  }
  return { ms, body: response.body };
}

function countOf(body: Buffer): number {
  const parsed = JSON.parse(body.toString('utf8')) as { edges?: unknown; items?: unknown[] };
  // A summary counts edges by kind instead of listing them.
  if (parsed.edges && !Array.isArray(parsed.edges)) {
    return Object.values(parsed.edges as Record<string, number>).reduce((sum, count) => sum + count, 0);
  }
  return ((parsed.edges as unknown[] | undefined) ?? parsed.items ?? []).length;
}

async function timeNaive(
  naive: NaiveDataMap,
  spec: QuerySpec,
  now: number,
): Promise<Timing & { readonly items: number }> {
  const times: number[] = [];
  let items = 0;
  await naive.answer(spec.naive(options.requests), now);
  for (let i = 0; i < options['naive-runs']; i++) {
    const started = performance.now();
    const answer = await naive.answer(spec.naive(i), now);
    times.push(performance.now() - started);
    if (i === 0) items = answer.count;
  }
  return { count: times.length, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), items };
}

function log(message: string) {
  process.stdout.write(`[bench:datamap] ${message}\n`);
}

await main();
