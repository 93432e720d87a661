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
import type { ExpiryItem, ExpiryPage } from '@lethe/api';
import BetterSqlite3 from 'better-sqlite3';
import { positiveIntegerFlags } from './args.js';
import { NAIVE_EXPIRY_PAGE } from './baselines/naive-schema.js';
import { DAY_MS, loadDataset, type Dataset } from './expiries-dataset.js';
import {
  expiriesReport,
  type PageTimings,
  type StreamMeasurement,
  type StreamSample,
} from './expiries-report.js';
import { sendJson } from './http-client.js';
import { applyCatalog, LETHE_BUILD, startLethe, type LetheServer } from './lethe-process.js';
import { describeMachine } from './machine.js';
import { readNdjson } from './ndjson-stream.js';
import { distinctIndexes, seededRandom } from './random.js';
import { writeReportSection } from './report.js';
import { formatInteger, percentile, secondsSince } from './stats.js';

const options = positiveIntegerFlags(process.argv.slice(2), {
  'subject-fields': 10_000_000,
  requests: 200,
  'naive-subject-fields': Number.MAX_SAFE_INTEGER,
  'naive-queries': 5,
  'stream-seconds': 300,
});
const PAGE = 1_000;
const WARM_UP_REQUESTS = 10;
/** The naive query scans everything; stop asking once this much time went into it. */
const NAIVE_BUDGET_SECONDS = 300;
const RSS_SAMPLE_MS = 250;

async function main() {
  const machine = describeMachine();
  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-bench-expiries-'));
  try {
    // First start: the server runs its migrations and takes the catalog through the API.
    const first = await startLethe({ dataDir });
    try {
      await applyCatalog(first);
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
    let stream: StreamMeasurement;
    try {
      pages = await timePages(lethe, dataset);
      log(`first pages: p50 ${pages.first.p50Ms.toFixed(1)} ms, p99 ${pages.first.p99Ms.toFixed(1)} ms`);
      stream = await timeStream(lethe, dataset);
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
        naive,
        stream,
        streamBudgetSeconds: options['stream-seconds'],
        build: LETHE_BUILD,
      }),
    );
    log('wrote docs/benchmarks.md');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** First pages of many different days, then the page after each that has one, one request at a time. */
async function timePages(lethe: LetheServer, dataset: Dataset): Promise<PageTimings> {
  const days = [...dataset.perDay.keys()].sort((a, b) => a - b);
  const random = seededRandom(7);
  const picked = distinctIndexes(random, days.length, options.requests).map((index) => days[index] as number);
  // Shuffled, so that consecutive requests do not walk the index in order.
  const order = picked.map((day) => ({ day, key: random() })).sort((a, b) => a.key - b.key);
  for (const index of distinctIndexes(random, days.length, WARM_UP_REQUESTS)) {
    await getPage(lethe, days[index] as number);
  }

  const first: number[] = [];
  const next: number[] = [];
  const samples = new Map<number, ExpiryItem[]>();
  for (const { day } of order) {
    const expected = dataset.perDay.get(day) ?? 0;
    let started = performance.now();
    const page = await getPage(lethe, day);
    first.push(performance.now() - started);
    checkPage(page, day, Math.min(PAGE, expected), expected > PAGE);
    if (samples.size < options['naive-queries']) samples.set(day, page.items);
    if (page.next) {
      started = performance.now();
      const following = await getPage(lethe, day, page.next);
      next.push(performance.now() - started);
      checkPage(following, day, Math.min(PAGE, expected - PAGE), expected > 2 * PAGE);
      const last = page.items[page.items.length - 1] as ExpiryItem;
      if (compareItems(last, following.items[0] as ExpiryItem) >= 0)
        throw new Error('the cursor went backwards');
    }
  }
  return {
    first: { count: first.length, p50Ms: percentile(first, 50), p99Ms: percentile(first, 99) },
    next: { count: next.length, p50Ms: percentile(next, 50), p99Ms: percentile(next, 99) },
    averageItems:
      picked.reduce((sum, day) => sum + Math.min(PAGE, dataset.perDay.get(day) ?? 0), 0) / picked.length,
    samples,
    peakRssKiB: lethe.server.stats().peakRssKiB,
  };
}

function getPage(lethe: LetheServer, day: number, cursor?: string): Promise<ExpiryPage> {
  const query = `day=${isoDay(day)}&limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`;
  return sendJson<ExpiryPage>('GET', `${lethe.server.url}/v1/expiries?${query}`, lethe.token);
}

/** A page holds what the generator put on that day, in feed order, and says whether more follow. */
function checkPage(page: ExpiryPage, day: number, size: number, more: boolean) {
  if (page.items.length !== size)
    throw new Error(`${isoDay(day)}: ${page.items.length} items, expected ${size}`);
  if ((page.next !== undefined) !== more) throw new Error(`${isoDay(day)}: wrong "next"`);
  page.items.forEach((item, index) => {
    const at = Date.parse(item.expiresAt);
    if (at < day || at >= day + DAY_MS) throw new Error(`${isoDay(day)}: item expires ${item.expiresAt}`);
    const previous = page.items[index - 1];
    if (previous && compareItems(previous, item) >= 0) throw new Error(`${isoDay(day)}: items out of order`);
  });
}

function compareItems(a: ExpiryItem, b: ExpiryItem): number {
  return (
    Date.parse(a.expiresAt) - Date.parse(b.expiresAt) ||
    (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0) ||
    (a.field < b.field ? -1 : a.field > b.field ? 1 : 0)
  );
}

/**
 * The whole feed, first day to last, as NDJSON, sampling the server's memory and the client's
 * progress as it goes, within a time budget.
 */
async function timeStream(lethe: LetheServer, dataset: Dataset): Promise<StreamMeasurement> {
  const days = [...dataset.perDay.keys()].sort((a, b) => a - b);
  const from = isoDay(days[0] as number);
  const to = isoDay(days[days.length - 1] as number);
  const rssBeforeKiB = lethe.server.stats().rssKiB;
  const url = `${lethe.server.url}/v1/expiries?from=${from}&to=${to}`;
  const reader = readNdjson(url, lethe.token, options['stream-seconds']);
  const started = performance.now();
  const samples: StreamSample[] = [];
  const sampler = setInterval(
    () =>
      samples.push({
        seconds: secondsSince(started),
        lines: reader.linesSoFar(),
        rssKiB: lethe.server.stats().rssKiB,
      }),
    RSS_SAMPLE_MS,
  );
  let result;
  try {
    result = await reader.done;
  } finally {
    clearInterval(sampler);
  }
  if (result.complete && result.lines !== dataset.subjectFields) {
    throw new Error(
      `the stream had ${result.lines} lines, the database holds ${dataset.subjectFields} subject-fields`,
    );
  }
  const firstItem = result.first as Partial<ExpiryItem> | undefined;
  if (typeof firstItem?.subject !== 'string' || typeof firstItem.expiresAt !== 'string') {
    throw new Error(`the stream's first line is not an expiry item: ${JSON.stringify(firstItem)}`);
  }
  return {
    from,
    to,
    expectedLines: dataset.subjectFields,
    lines: result.lines,
    bytes: result.bytes,
    seconds: result.seconds,
    complete: result.complete,
    rssBeforeKiB,
    samples,
    peakRssKiB: lethe.server.stats().peakRssKiB,
  };
}

/**
 * The same day pages the naive way, in-process (no HTTP, which only flatters it), with the same
 * page cache as Lethe. When the naive table holds the same uses, its pages must equal Lethe's.
 */
function timeNaive(naiveFile: string, dataset: Dataset, pages: PageTimings) {
  const connection = new BetterSqlite3(naiveFile, { readonly: true });
  connection.pragma('cache_size = -262144');
  const query = connection.prepare<
    [number, number, number],
    { subject: string; field: string; expires_at: number }
  >(NAIVE_EXPIRY_PAGE);
  const complete = dataset.naiveSubjectFields === dataset.subjectFields;
  const timings: number[] = [];
  const started = performance.now();
  try {
    for (const [day, letheItems] of pages.samples) {
      if (timings.length > 0 && secondsSince(started) > NAIVE_BUDGET_SECONDS) break;
      const queryStarted = performance.now();
      const rows = query.all(day, day + DAY_MS, PAGE);
      timings.push(performance.now() - queryStarted);
      if (complete) {
        const same =
          rows.length === letheItems.length &&
          rows.every((row, i) => {
            const item = letheItems[i] as ExpiryItem;
            return (
              row.subject === item.subject &&
              row.field === item.field &&
              row.expires_at === Date.parse(item.expiresAt)
            );
          });
        if (!same) throw new Error(`${isoDay(day)}: the naive page differs from Lethe's`);
      }
    }
  } finally {
    connection.close();
  }
  return {
    count: timings.length,
    p50Ms: percentile(timings, 50),
    p99Ms: percentile(timings, 99),
    comparedWithLethe: complete,
  };
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

function isoDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

function log(message: string) {
  process.stdout.write(`[bench:expiries] ${message}\n`);
}

await main();
