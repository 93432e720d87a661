/**
 * `npm run bench:recompute [-- --subjects N]`
 *
 * A retention change over N subject-fields (default 50,000) on SQLite, in one process: the
 * synchronous recompute that `PUT /v1/policies/{name}` ran before (one transaction, the in-run
 * baseline) against the background job it schedules now. For each: how long the `PUT` (or the
 * transaction) takes to answer, how long until every expiry is recomputed, and the latency of
 * small ingest batches sent every 20 ms meanwhile. Prints a table; docs/benchmarks.md has the
 * figures of a run, written by hand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UsageEvent } from '@lethe/api';
import { LETHE_ITSELF } from '../packages/server/src/auth/principal.js';
import { CatalogView } from '../packages/server/src/retention/catalog-cache.js';
import { recomputePolicyExpiries } from '../packages/server/src/retention/retention-recompute.js';
import { createLethe, type Lethe } from '../packages/server/src/server.js';
import { positiveIntegerFlags } from './args.js';
import { formatInteger, formatMs, formatRatio, percentile } from './stats.js';

const options = positiveIntegerFlags(process.argv.slice(2), { subjects: 50_000 });
const POLICY = 'account';
const BASE = Date.parse('2024-01-01T00:00:00Z');
const INGEST_EVERY_MS = 20;
const INGEST_BATCH = 100;

interface Run {
  readonly name: string;
  readonly answerMs: number;
  readonly recomputedMs: number;
  readonly ingestMs: number[];
}

async function setUp(dir: string): Promise<{ lethe: Lethe; token: string }> {
  const lethe = await createLethe({ dataDir: dir, rateLimit: false, recomputeWaitMs: 0 });
  await lethe.services.policies.put(LETHE_ITSELF, POLICY, {
    purpose: 'essential.account',
    retention: 'P2Y',
    legalBasis: 'contract',
  });
  await lethe.services.systems.put(LETHE_ITSELF, 'accounts', {
    team: 'identity',
    datasets: [{ name: 'accounts', fields: [{ name: 'email', categories: ['user.contact.email'] }] }],
  });
  const { token } = await lethe.tokens.mint({ subject: 'bench', role: 'admin', ttlSeconds: 3_600 });
  for (let start = 0; start < options.subjects; start += 1_000) {
    const events: UsageEvent[] = [];
    for (let i = start; i < Math.min(options.subjects, start + 1_000); i += 1) {
      events.push(usage(`u-${i}`, i));
    }
    await ingest(lethe, token, events);
  }
  await lethe.services.store.freshAggregates();
  return { lethe, token };
}

function usage(subject: string, day: number): UsageEvent {
  const at = new Date(BASE + (day % 365) * 86_400_000).toISOString();
  return { subject, system: 'accounts', policy: POLICY, fields: ['accounts.email'], at };
}

async function ingest(lethe: Lethe, token: string, events: UsageEvent[]): Promise<void> {
  const response = await lethe.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { authorization: `Bearer ${token}` },
    payload: { events },
  });
  if (response.statusCode !== 200) throw new Error(`ingest answered ${response.statusCode}`);
}

/** Small ingest batches every 20 ms until `stop` resolves; their latencies. */
async function ingestDuring(lethe: Lethe, token: string, work: () => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  let done = false;
  let sent = 0;
  const load = (async () => {
    while (!done) {
      const events = Array.from({ length: INGEST_BATCH }, (_, i) => usage(`n-${sent}-${i}`, i));
      sent += 1;
      const started = performance.now();
      await ingest(lethe, token, events);
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, INGEST_EVERY_MS));
    }
  })();
  await work();
  done = true;
  await load;
  return latencies;
}

async function synchronous(lethe: Lethe, token: string): Promise<Run> {
  let answerMs = 0;
  const ingestMs = await ingestDuring(lethe, token, async () => {
    const started = performance.now();
    // What `PUT` did before: the new version and every expiry in one transaction.
    await lethe.services.store.transaction(
      async (repository) => {
        const catalog = await repository.retention.loadCatalog();
        const policies = catalog.policies.map((p) => (p.name === POLICY ? { ...p, retention: 'P1Y' } : p));
        await recomputePolicyExpiries(repository, POLICY, new CatalogView({ ...catalog, policies }), true);
      },
      { exclusiveCatalog: true },
    );
    answerMs = performance.now() - started;
  });
  return { name: 'synchronous recompute in the PUT (before)', answerMs, recomputedMs: answerMs, ingestMs };
}

async function background(lethe: Lethe, token: string): Promise<Run> {
  let answerMs = 0;
  let recomputedMs = 0;
  const ingestMs = await ingestDuring(lethe, token, async () => {
    const started = performance.now();
    const response = await lethe.app.inject({
      method: 'PUT',
      url: `/v1/policies/${POLICY}`,
      headers: { authorization: `Bearer ${token}` },
      payload: { purpose: 'essential.account', retention: 'P1Y', legalBasis: 'contract', reason: 'bench' },
    });
    answerMs = performance.now() - started;
    const job = response.json<{ recompute: { job: string } }>().recompute.job;
    for (;;) {
      const row = await lethe.services.store.repository.jobs.get(job);
      if (row?.state === 'done') break;
      if (row?.state === 'failed') throw new Error(`recompute failed: ${row.error}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    recomputedMs = performance.now() - started;
  });
  return { name: 'background job (now)', answerMs, recomputedMs, ingestMs };
}

async function measure(run: (lethe: Lethe, token: string) => Promise<Run>): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-bench-recompute-'));
  const { lethe, token } = await setUp(dir);
  try {
    return await run(lethe, token);
  } finally {
    await lethe.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const before = await measure(synchronous);
const now = await measure(background);
console.log(`${formatInteger(options.subjects)} subject-fields, SQLite, one process`);
console.log('| run | PUT answered | all expiries recomputed | ingest batches | ingest p50 | ingest max |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const run of [before, now]) {
  console.log(
    `| ${run.name} | ${formatMs(run.answerMs)} | ${formatMs(run.recomputedMs)} | ${run.ingestMs.length} | ` +
      `${formatMs(percentile(run.ingestMs, 50))} | ${formatMs(Math.max(...run.ingestMs))} |`,
  );
}
console.log(
  `ratios (now / before): PUT answer ${formatRatio(now.answerMs / before.answerMs)}, ` +
    `recompute ${formatRatio(now.recomputedMs / before.recomputedMs)}, ` +
    `worst ingest batch ${formatRatio(Math.max(...now.ingestMs) / Math.max(...before.ingestMs))}`,
);
