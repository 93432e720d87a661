import { subtractDuration, type Duration } from '../lib/duration.js';
import { toDay } from '../lib/time.js';
import type { Store } from '../store/store.js';

/** Rows read and deleted per statement: a sweep never holds a long transaction or a big list. */
const PAGE = 1_000;

export interface WebhookLogPruned {
  readonly deliveries: number;
  readonly events: number;
  readonly notices: number;
}

/**
 * Webhook log retention (docs/webhooks.md, "Retention"): deliveries delivered or failed longer
 * ago than `LETHE_WEBHOOK_LOG_RETENTION`, then the events no delivery refers to any more, and the
 * notices that can no longer stop a second announcement, are deleted a page at a time. A pending
 * delivery is never pruned, nor its event, nor an event not dispatched yet. A notice is kept as
 * long as it matters whatever its age: a request's `overdue`/`due_soon` notice while the request
 * is not finished and its subscription exists (else the next sweep would announce it again), a
 * day's `expiries.due` notice for that day.
 */
export class WebhookLogRetention {
  constructor(
    private readonly store: Store,
    private readonly retention: Duration,
    /** Rows per statement (tests make it small to see the pages). */
    private readonly page = PAGE,
  ) {}

  async run(now = Date.now()): Promise<WebhookLogPruned> {
    const before = subtractDuration(now, this.retention);
    const queries = this.store.repository.webhooks;
    const deliveries = await inPages(
      () => queries.settledDeliveriesBefore(before, this.page),
      (ids) => queries.deleteSettledDeliveries(ids),
      this.page,
    );
    const events = await inPages(
      () => queries.orphanEventsBefore(before, this.page),
      (ids) => queries.deleteOrphanEvents(ids, before),
      this.page,
    );
    return { deliveries, events, notices: await this.pruneNotices(before, toDay(now)) };
  }

  private async pruneNotices(before: number, today: string): Promise<number> {
    const queries = this.store.repository.webhooks;
    const subscriptions = new Set((await queries.list()).map((webhook) => webhook.name));
    let deleted = 0;
    let after = '';
    for (;;) {
      const keys = await queries.noticesBefore(before, after, this.page);
      const requests = keys.map(requestNotice).filter((notice) => notice !== undefined);
      const unfinished = await queries.unfinishedRequests([...new Set(requests.map((r) => r.request))]);
      const stale = keys.filter((key) => {
        const request = requestNotice(key);
        if (request) return !subscriptions.has(request.webhook) || !unfinished.has(request.request);
        const day = /^expiries\.due:(\d{4}-\d{2}-\d{2}):/.exec(key)?.[1];
        return day === undefined || day < today;
      });
      deleted += await queries.deleteNotices(stale);
      const last = keys.at(-1);
      if (keys.length < this.page || last === undefined) return deleted;
      after = last;
    }
  }
}

/** `request.overdue:{webhook}:{request}` or `request.due_soon:…` (webhook-notices.ts). */
function requestNotice(key: string): { webhook: string; request: string } | undefined {
  const match = /^request\.(?:overdue|due_soon):([^:]+):(.+)$/.exec(key);
  return match ? { webhook: match[1] as string, request: match[2] as string } : undefined;
}

/** Reads a page of ids and deletes it until a page is short (or, with a racing sweep, empty). */
async function inPages(
  page: () => Promise<string[]>,
  remove: (ids: readonly string[]) => Promise<number>,
  size: number,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const ids = await page();
    const removed = await remove(ids);
    deleted += removed;
    if (ids.length < size || removed === 0) return deleted;
  }
}
