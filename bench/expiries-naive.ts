import type { ExpiryItem } from '@lethe/api';
import BetterSqlite3 from 'better-sqlite3';
import { NAIVE_EXPIRY_PAGE } from './baselines/naive-schema.js';
import { PAGE } from './expiries-pages.js';
import { DAY_MS, isoDay, type Dataset } from './expiries-dataset.js';
import type { PageTimings } from './expiries-report.js';
import { percentile, secondsSince } from './stats.js';

/** The naive query scans everything; stop asking once this much time went into it. */
const NAIVE_BUDGET_SECONDS = 300;

/**
 * The same day pages the naive way, in-process (no HTTP, which only flatters it), with the same
 * page cache as Lethe. When the naive table holds the same uses, its pages must equal Lethe's.
 */
export function timeNaive(naiveFile: string, dataset: Dataset, pages: PageTimings) {
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
