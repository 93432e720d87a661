/**
 * `npm run bench:expiries [-- --subject-fields N --requests N --naive-subject-fields N --naive-queries N
 *   --stream-seconds N]`
 *
 * Builds a Lethe SQLite database holding N subject-fields (and the naive design's table with the
 * same uses), then times the day pages of the expiry feed over HTTP against the naive GROUP BY,
 * streams the whole feed as NDJSON while watching the server's memory, and rewrites the expiries
 * section of docs/benchmarks.md.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { positiveIntegerFlags } from './args.js';
import { loadDataset } from './expiries-dataset.js';
import { timeNaive } from './expiries-naive.js';
import { timePages, WARM_UP_REQUESTS } from './expiries-pages.js';
import { expiriesReport, type PageTimings, type StreamMeasurement } from './expiries-report.js';
import { timeStream } from './expiries-stream.js';
import { EXPIRY_POLICIES, HOLDS } from './expiries-catalog.js';
import { sendJson } from './http-client.js';
import { applyCatalog, LETHE_BUILD, startLethe } from './lethe-process.js';
import { describeMachine } from './machine.js';
import { writeReportSection } from './report.js';
import { formatInteger, secondsSince } from './stats.js';

const options = positiveIntegerFlags(process.argv.slice(2), {
  'subject-fields': 10_000_000,
  requests: 200,
  'naive-subject-fields': Number.MAX_SAFE_INTEGER,
  'naive-queries': 5,
  'stream-seconds': 300,
});

async function main() {
  const machine = describeMachine();
  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-bench-expiries-'));
  try {
    // First start: the server runs its migrations and takes the catalog through the API.
    const first = await startLethe({ dataDir });
    try {
      await applyCatalog(first, EXPIRY_POLICIES);
      // Standing holds: every feed row is checked against them (docs/retention.md, "Legal holds").
      for (const [name, hold] of Object.entries(HOLDS)) {
        await sendJson('PUT', `${first.server.url}/v1/holds/${name}`, first.token, hold);
      }
    } finally {
      await first.server.stop();
    }
    const letheFile = join(dataDir, 'lethe.db');
    const naiveFile = join(dataDir, 'naive.db');
    log(`loading ${formatInteger(options['subject-fields'])} subject-fields…`);
    const generating = performance.now();
    const dataset = loadDataset(letheFile, naiveFile, {
      subjectFields: options['subject-fields'],
      naiveSubjectFields: options['naive-subject-fields'],
      now: Date.now(),
    });
    const generationSeconds = secondsSince(generating);
    log(
      `loaded ${formatInteger(dataset.subjectFields)} subject-fields, ${formatInteger(dataset.usages)} uses in ` +
        `${generationSeconds.toFixed(0)} s (Lethe ${dataset.letheSeconds.toFixed(0)} s, naive ${dataset.naiveSeconds.toFixed(0)} s)`,
    );

    const lethe = await startLethe({ dataDir });
    let pages: PageTimings;
    let withoutHolds: PageTimings;
    let stream: StreamMeasurement;
    try {
      pages = await timePages(lethe, dataset, {
        requests: options.requests,
        naiveSamples: options['naive-queries'],
      });
      log(`first pages: p50 ${pages.first.p50Ms.toFixed(1)} ms, p99 ${pages.first.p99Ms.toFixed(1)} ms`);
      // The same kind of pages once the holds are released: what checking every row against them costs.
      for (const name of Object.keys(HOLDS)) {
        await sendJson('DELETE', `${lethe.server.url}/v1/holds/${name}`, lethe.token);
      }
      withoutHolds = await timePages(lethe, dataset, { requests: options.requests, naiveSamples: 0 });
      log(
        `without holds: p50 ${withoutHolds.first.p50Ms.toFixed(1)} ms, p99 ${withoutHolds.first.p99Ms.toFixed(1)} ms`,
      );
      stream = await timeStream(lethe, dataset, options['stream-seconds']);
      log(
        `stream: ${formatInteger(stream.lines)} rows in ${stream.seconds.toFixed(1)} s${stream.complete ? '' : ' (cut)'}`,
      );
    } finally {
      await lethe.server.stop();
    }
    const naive = timeNaive(naiveFile, dataset, pages);
    log(`naive: p50 ${naive.p50Ms.toFixed(0)} ms over ${naive.count} queries`);

    writeReportSection(
      'expiries',
      expiriesReport({
        machine,
        dataset,
        generationSeconds,
        requests: options.requests,
        fileBytes: { lethe: fileBytes(letheFile), naive: fileBytes(naiveFile) },
        pages,
        withoutHolds,
        naive,
        stream,
        streamBudgetSeconds: options['stream-seconds'],
        build: LETHE_BUILD,
        warmUpRequests: WARM_UP_REQUESTS,
      }),
    );
    log('wrote docs/benchmarks.md');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function fileBytes(file: string): number {
  return [file, `${file}-wal`].reduce((sum, path) => {
    try {
      return sum + statSync(path).size;
    } catch {
      return sum;
    }
  }, 0);
}

function log(message: string) {
  process.stdout.write(`[bench:expiries] ${message}\n`);
}

await main();
