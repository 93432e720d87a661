/**
 * `npm run fuzz [-- --requests N --seconds N --seed N --trials N]`
 *
 * The long run of the fuzzer (issue 16; the short run is packages/server/test/fuzz/fuzz.test.ts):
 *
 * 1. `--requests` generated requests (default 100,000; at most `--seconds`, default 3,600) over
 *    every route and method of the OpenAPI document, as every caller, against an in-process Lethe
 *    with the demo company on SQLite, over real HTTP on loopback; every answer judged: no 5xx,
 *    refusals in the error envelope, nothing for a caller without a valid token, no hidden field
 *    or category for a category-limited token, no subject id (nor a different answer for a held
 *    subject) for an auditor without the subject-ids grant;
 * 2. `--trials` crash trials per backend (default 20; SQLite, and PostgreSQL when reachable): a
 *    real `lethe serve` SIGKILLed during ingest loses no acknowledged event.
 *
 * Prints the figures, rewrites the `fuzz` section of docs/benchmarks.md, and exits 1 on any finding.
 */
import { cpus, release, totalmem } from 'node:os';
import { positiveIntegerFlags } from './args.js';
import { table, writeReportSection } from './report.js';
import { availableBackends } from '../packages/server/test/support/backends.js';
import { crashTrial, type CrashTrialResult } from '../packages/server/test/support/crash-trial.js';
import { killAllServers } from '../packages/server/test/support/lethe-process.js';
import { runFuzz, type FuzzFigures } from '../packages/server/test/fuzz/fuzz-run.js';
import { openFuzzWorld } from '../packages/server/test/fuzz/fuzz-world.js';
import { KNOWN_UNTIL_MERGED } from '../packages/server/test/fuzz/known-until-merged.js';

const flags = positiveIntegerFlags(process.argv.slice(2), {
  requests: 100_000,
  seconds: 3_600,
  seed: 16,
  trials: 20,
});

interface TrialFigures {
  readonly backend: string;
  readonly results: CrashTrialResult[];
  readonly ms: number;
}

const count = (n: number) => n.toLocaleString('en-US');
const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

async function fuzz(): Promise<FuzzFigures> {
  const world = await openFuzzWorld();
  try {
    console.log(
      `fuzzing ${world.operations.length} operations as ${world.callers.length} callers, seed ${flags.seed}`,
    );
    return await runFuzz(world, {
      seed: flags.seed,
      requests: flags.requests,
      timeLimitMs: flags.seconds * 1_000,
      restoreEvery: 2_000,
      progress: (figures) =>
        console.log(
          `  ${count(figures.requests)} requests, ${sum(figures.byKind)} findings, ${sum(figures.known)} known`,
        ),
    });
  } finally {
    await world.close();
  }
}

async function trials(): Promise<TrialFigures[]> {
  const figures: TrialFigures[] = [];
  for (const backend of await availableBackends()) {
    const started = performance.now();
    const results: CrashTrialResult[] = [];
    for (let trial = 1; trial <= flags.trials; trial += 1) {
      const location = await backend.create();
      try {
        results.push(await crashTrial(location));
      } catch (error) {
        results.push({ acknowledged: 0, unanswered: 0, problems: [String(error)] });
      } finally {
        await killAllServers();
        await location.dispose();
      }
      const last = results.at(-1)!;
      console.log(
        `  ${backend.name} trial ${trial}: ${last.acknowledged} acknowledged, ${last.unanswered} cut, ${last.problems.length} problems`,
      );
    }
    figures.push({ backend: backend.name, results, ms: performance.now() - started });
  }
  return figures;
}

function report(figures: FuzzFigures, crashes: TrialFigures[]): string {
  const seconds = figures.durationMs / 1_000;
  const statuses = Object.entries(figures.statuses).sort(([a], [b]) => Number(a) - Number(b));
  const operations = Object.entries(figures.perOperation).sort(([a], [b]) => a.localeCompare(b));
  const perOperation = operations.map(([, n]) => n).sort((a, b) => a - b);
  const processor = cpus()[0]?.model.trim() ?? 'unknown';
  return `
## Fuzzer: \`npm run fuzz\`

- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC
- CPU: ${cpus().length} × ${processor}; Memory: ${Math.round(totalmem() / 2 ** 30)} GiB; OS: Linux ${release()}; Node ${process.version}
- Seed ${flags.seed}; a Lethe in process (SQLite, the demo company) over real HTTP on loopback, one
  request at a time; the demo's configuration put back every 2,000 requests

**${count(figures.requests)} requests** (${count(figures.twins)} of them existence twins) to
${operations.length} operations in ${seconds.toFixed(0)} s (${(figures.requests / seconds).toFixed(0)} requests/s),
**${figures.byKind['5xx'] ?? 0} 5xx, ${(figures.byKind['leak'] ?? 0) + (figures.byKind['subject-leak'] ?? 0) + (figures.byKind['existence'] ?? 0)} scope leaks**,
${figures.byKind['envelope'] ?? 0} refusals outside the envelope, ${figures.byKind['unauthenticated'] ?? 0} answers
without a valid token, ${figures.byKind['no-answer'] ?? 0} dropped connections. Requests per operation: at
least ${count(perOperation[0] ?? 0)}, median ${count(perOperation[Math.floor(perOperation.length / 2)] ?? 0)}, at most ${count(perOperation.at(-1) ?? 0)}; slowest answer
${figures.slowest.ms.toFixed(0)} ms (\`${figures.slowest.operation}\`).

${table([['status', 'answers'], ...statuses.map(([status, n]) => [status, count(n)])])}

${table([['caller', 'requests'], ...Object.entries(figures.perCaller).map(([caller, n]) => [`\`${caller}\``, count(n)])])}

${
  Object.keys(figures.known).length === 0
    ? 'No finding was set aside as known (`KNOWN_UNTIL_MERGED` is empty).'
    : `Set aside by \`KNOWN_UNTIL_MERGED\` (being fixed on other branches when this ran):\n\n${table([
        ['finding', 'branch', 'answers'],
        ...Object.entries(figures.known).map(([id, n]) => [
          id,
          KNOWN_UNTIL_MERGED.find((known) => known.id === id)?.branch ?? '',
          count(n),
        ]),
      ])}`
}

<details><summary>Requests per operation</summary>

${table([['operation', 'requests'], ...operations.map(([operation, n]) => [`\`${operation}\``, count(n)])])}

</details>

### SIGKILL during ingest

A real \`lethe serve\` killed the moment its 16th batch of 60 events is acknowledged, with other
batches in flight; after the restart every acknowledged event is stored once, every cut batch is
all or nothing, and resending everything counts nothing twice (\`test/support/crash-trial.ts\`).

${table([
  ['backend', 'trials', 'batches acknowledged', 'batches cut by the kill', 'problems', 'time'],
  ...crashes.map(({ backend, results, ms }) => [
    backend,
    String(results.length),
    count(results.reduce((n, r) => n + r.acknowledged, 0)),
    count(results.reduce((n, r) => n + r.unanswered, 0)),
    String(results.reduce((n, r) => n + r.problems.length, 0)),
    `${(ms / 1_000).toFixed(0)} s`,
  ]),
])}
`;
}

const figures = await fuzz();
for (const finding of figures.findings) console.log(JSON.stringify(finding, null, 2));
console.log(`crash trials: ${flags.trials} per backend`);
const crashes = await trials();
const markdown = report(figures, crashes);
console.log(markdown);
writeReportSection('fuzz', markdown);
const problems = crashes.flatMap(({ results }) => results.flatMap((result) => result.problems));
for (const problem of problems) console.log(`crash trial: ${problem}`);
process.exit(figures.findings.length > 0 || problems.length > 0 ? 1 : 0);
