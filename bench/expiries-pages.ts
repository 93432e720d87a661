import type { ExpiryItem, ExpiryPage } from '@lethe/api';
import { DAY_MS, isoDay, type Dataset } from './expiries-dataset.js';
import type { PageTimings } from './expiries-report.js';
import { sendJson } from './http-client.js';
import type { LetheServer } from './lethe-process.js';
import { distinctIndexes, seededRandom } from './random.js';
import { percentile } from './stats.js';

export const PAGE = 1_000;
export const WARM_UP_REQUESTS = 10;

/** First pages of many different days, then the page after each that has one, one request at a time. */
export async function timePages(
  lethe: LetheServer,
  dataset: Dataset,
  options: { requests: number; naiveSamples: number },
): Promise<PageTimings> {
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
    if (samples.size < options.naiveSamples) samples.set(day, page.items);
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
