import type { ExpiryItem } from '@lethe/api';
import { FIELD_NAMES } from './catalog.js';
import { EXPIRY_POLICIES, HOLDS } from './expiries-catalog.js';
import type { Dataset } from './expiries-dataset.js';
import type { Machine } from './machine.js';
import { table } from './report.js';
import { formatInteger, formatMiB, formatMs, formatRatio } from './stats.js';

export interface Timing {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface PageTimings {
  readonly first: Timing;
  /** The page after the first, through the `next` cursor, for days with more than one page. */
  readonly next: Timing;
  readonly averageItems: number;
  /** Lethe's first pages of a few days, to compare with the naive query's. */
  readonly samples: ReadonlyMap<number, ExpiryItem[]>;
  readonly peakRssKiB: number;
}

export interface StreamSample {
  readonly seconds: number;
  readonly lines: number;
  readonly rssKiB: number;
}

export interface StreamMeasurement {
  readonly from: string;
  readonly to: string;
  readonly expectedLines: number;
  readonly lines: number;
  readonly bytes: number;
  readonly seconds: number;
  /** False when the time budget ran out before the stream ended. */
  readonly complete: boolean;
  readonly rssBeforeKiB: number;
  readonly samples: readonly StreamSample[];
  readonly peakRssKiB: number;
}

export interface ExpiriesResults {
  readonly machine: Machine;
  readonly dataset: Dataset;
  readonly generationSeconds: number;
  readonly requests: number;
  readonly fileBytes: { readonly lethe: number; readonly naive: number };
  readonly pages: PageTimings;
  /** The same kind of pages after the holds were released (the baseline of their cost). */
  readonly withoutHolds: PageTimings;
  readonly naive: Timing & { readonly comparedWithLethe: boolean };
  readonly stream: StreamMeasurement;
  readonly streamBudgetSeconds: number;
  /** What was measured, when not the repository's own build (BENCH_LETHE_CLI). */
  readonly build: string;
  readonly warmUpRequests: number;
}

const TARGET_MS = 50;
const STREAM_WINDOW_SECONDS = 10;

/** A sentence when the stream slowed down as it went on, which a flat keyset scan should not. */
function degradation(stream: StreamMeasurement, window: number): string {
  const first = rateBetween(stream.samples, 0, window);
  const last = rateBetween(stream.samples, stream.seconds - window, stream.seconds);
  return last < first / 2
    ? `The stream slowed down as it went on (${formatInteger(first)} → ${formatInteger(last)} rows/s): each chunk cost more than the one before.\n\n`
    : '';
}

/** Rows per second between two moments of the stream, from the progress samples. */
function rateBetween(samples: readonly StreamSample[], fromSeconds: number, toSeconds: number): number {
  const at = (seconds: number) =>
    samples.filter((sample) => sample.seconds <= seconds).at(-1) ?? { seconds: 0, lines: 0 };
  const start = at(fromSeconds);
  const end = at(toSeconds);
  return end.seconds > start.seconds ? (end.lines - start.lines) / (end.seconds - start.seconds) : Number.NaN;
}

export function expiriesReport(results: ExpiriesResults): string {
  const { dataset, pages, naive, stream } = results;
  const speedup = (timing: Timing) => formatRatio(naive.p50Ms / timing.p50Ms);
  const naiveScope =
    dataset.naiveSubjectFields === dataset.subjectFields
      ? 'the same uses'
      : `the uses of the first ${formatInteger(dataset.naiveSubjectFields)} subject-fields only (the full size did not fit the time budget)`;
  const pageRows = [
    ['query', 'requests', 'p50', 'p99', 'naive p50 ÷ this p50'],
    [
      `Lethe \`GET /v1/expiries?day=D&limit=1000\`, first page, over HTTP`,
      formatInteger(pages.first.count),
      `${formatMs(pages.first.p50Ms)} ms`,
      `${formatMs(pages.first.p99Ms)} ms`,
      speedup(pages.first),
    ],
    [
      'Lethe, the next page of the same day through the `next` cursor',
      formatInteger(pages.next.count),
      `${formatMs(pages.next.p50Ms)} ms`,
      `${formatMs(pages.next.p99Ms)} ms`,
      speedup(pages.next),
    ],
    [
      'naive: GROUP BY subject, field over the one-row-per-use table, in-process SQL (no HTTP)',
      formatInteger(naive.count),
      `${formatMs(naive.p50Ms)} ms`,
      `${formatMs(naive.p99Ms)} ms`,
      '1×',
    ],
  ];
  const rssSamples = stream.samples.map((sample) => sample.rssKiB);
  const rssDuring = rssSamples.length ? Math.max(...rssSamples) : stream.rssBeforeKiB;
  const quartiles = [0.25, 0.5, 0.75, 1].map(
    (share) => rssSamples[Math.max(0, Math.ceil(share * rssSamples.length) - 1)] ?? Number.NaN,
  );
  const window = Math.max(1, Math.min(STREAM_WINDOW_SECONDS, stream.seconds / 10));
  const streamRows = [
    [
      'range',
      'rows streamed',
      'time',
      'rows/s',
      `rows/s in the first / last ${window.toFixed(0)} s`,
      'server RSS before',
      'RSS at 25 / 50 / 75 / 100% of the time',
      'server peak RSS (VmHWM)',
    ],
    [
      `${stream.from} … ${stream.to}`,
      `${formatInteger(stream.lines)}${stream.complete ? '' : ` of ${formatInteger(stream.expectedLines)} (cut at the time budget)`}`,
      `${stream.seconds.toFixed(1)} s`,
      formatInteger(stream.lines / stream.seconds),
      `${formatInteger(rateBetween(stream.samples, 0, window))} / ${formatInteger(rateBetween(stream.samples, stream.seconds - window, stream.seconds))}`,
      formatMiB(stream.rssBeforeKiB),
      quartiles.map((kib) => formatInteger(kib / 1024)).join(' / ') + ' MiB',
      formatMiB(stream.peakRssKiB),
    ],
  ];
  const policies = Object.entries(EXPIRY_POLICIES)
    .map(([name, policy]) => `${name} ${policy.retention}${policy.since ? ` since ${policy.since}` : ''}`)
    .join(', ');
  const holds = Object.entries(HOLDS)
    .map(([name, hold]) =>
      [
        name,
        hold.systems ? `systems ${hold.systems.join(', ')}` : '',
        hold.policies ? `policies ${hold.policies.join(', ')}` : '',
        hold.subjects ? `${hold.subjects.length} subjects` : '',
      ]
        .filter(Boolean)
        .join(': '),
    )
    .join('; ');
  const met = pages.first.p99Ms < TARGET_MS;
  return `## Expiry feed: \`npm run bench:expiries\`

${results.machine.lines.map((line) => `- ${line}`).join('\n')}
- Lethe build: ${results.build}

Data: ${formatInteger(dataset.subjectFields)} subject-fields of ${formatInteger(dataset.subjects)} subjects (1-9 of ${FIELD_NAMES.length} fields each),
${formatInteger(dataset.usages)} (subject, field, policy) uses (30% of fields under two policies; ${policies}), last uses
spread over two years, so expiries fall on ${formatInteger(dataset.perDay.size)} different days.
The event-anchored policy keeps ${formatInteger(dataset.eventAnchored.closed)} subject-fields counted from the subject's \`account-closed\` event and
${formatInteger(dataset.eventAnchored.waiting)} waiting for it (at 9999-12-31, never due). Standing legal holds, checked for every row: ${holds}. Lethe's file: ${formatInteger(results.fileBytes.lethe / 2 ** 20)} MiB;
the naive table holds ${naiveScope}: ${formatInteger(dataset.naiveRows)} rows, one per (subject, field, policy) at its last use
(the smallest one-row-per-use table that can answer the question, which flatters the baseline), in ${formatInteger(results.fileBytes.naive / 2 ** 20)} MiB.

Setup (test data, not a measurement, ${results.generationSeconds.toFixed(0)} s): \`lethe serve\` runs once on an empty data directory so
that its migrations create the schema and the catalog arrives through the API; it is stopped, the benchmark
writes \`usages\`, \`field_expiries\` and \`subject_expiries\` directly with better-sqlite3 in transactions of 50,000 subjects
with durability off, dropping the tables' secondary indexes first and re-creating them afterwards from the DDL the
migrations stored (${dataset.letheSeconds.toFixed(0)} s), and writes the naive table, index built after (${dataset.naiveSeconds.toFixed(0)} s);
then \`lethe serve\` starts again on the file. The OS page cache is warm (the files were just written).

Day pages: ${formatInteger(results.requests)} different days with at least one expiry, in random order, one request at a time after
${results.warmUpRequests} warm-up requests; ${formatInteger(pages.averageItems)} items per first page on average. Each page is checked: the
number of items equals what the generator put on that day (up to 1,000), all expire on that day, in feed order, and
\`next\` appears exactly when more follow.${naive.comparedWithLethe ? " The naive query's pages are compared with Lethe's: identical." : ''}

${table(pageRows)}

Streaming the whole feed with \`Accept: application/x-ndjson\` within a time budget of ${formatInteger(results.streamBudgetSeconds)} s (a
complete stream's line count is checked against the database); the client's progress and the server's resident memory are
sampled every 250 ms, the latter from \`/proc/<pid>/status\`:

${table(streamRows)}

${degradation(stream, window)}Peak RSS of the server after the day-page requests, before streaming: ${formatMiB(pages.peakRssKiB)}; the largest sample while
streaming: ${formatMiB(rssDuring)}. SQLite's page cache (\`cache_size\`, 256 MiB) is part of the resident memory and fills as the
stream reads pages; it is bounded, while the rows in flight are a 2,000-row chunk at a time.

Legal holds' cost: after the runs above the holds are released and the first pages of the same ${formatInteger(results.withoutHolds.first.count)} days
are timed again (a second pass over a warmer cache, so the ratio overstates what the holds cost): p50 ${formatMs(results.withoutHolds.first.p50Ms)} ms, p99 ${formatMs(results.withoutHolds.first.p99Ms)} ms without holds against
p50 ${formatMs(pages.first.p50Ms)} ms, p99 ${formatMs(pages.first.p99Ms)} ms with them (with ÷ without at the median: ${(pages.first.p50Ms / results.withoutHolds.first.p50Ms).toFixed(2)}).

- Target (\`GET /v1/expiries?day=D&limit=1000\` p99 < ${TARGET_MS} ms): ${
    met
      ? `**met**: p99 ${formatMs(pages.first.p99Ms)} ms, ${speedup(pages.first)} faster than the naive query at the median.`
      : `**missed** by ${formatMs(pages.first.p99Ms - TARGET_MS)} ms: p99 ${formatMs(pages.first.p99Ms)} ms. See the analysis below.`
  } ${
    pages.next.count === 0
      ? 'No day held more than one page.'
      : `The following page through the cursor: p99 ${formatMs(pages.next.p99Ms)} ms${pages.next.p99Ms < TARGET_MS ? '' : ' (over the target; see the analysis below)'}.`
  }
`;
}
