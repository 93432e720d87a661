import type { Metrics } from '../http/metrics.js';
import { SILENT_LOGGER, type Logger } from '../lib/logger.js';
import type { Store } from '../store/store.js';
import type { DomainGaugeQueries } from './domain-gauge-queries.js';

/** What `lethe_requests_due_soon` counts: open requests due within this many days. */
export const DUE_SOON_DAYS = 7;
/** How long a scrape waits for the store before it reports the previous values. */
export const DEFAULT_COLLECT_TIMEOUT_MS = 2_000;

const DAY_MS = 86_400_000;

interface Snapshot {
  readonly now: number;
  readonly overdue: number;
  readonly dueSoon: number;
  readonly fieldsPastExpiry: Map<string, number>;
  readonly oldestUnfoldedAppend: number | undefined;
  readonly exportBacklogs: Map<string, number | undefined>;
}

/** Fields past expiry per system, holds left out: the overview's count (`OverviewService`). */
export interface PastExpiryCount {
  fieldsPastExpiry(now: number): Promise<Map<string, number>>;
}

export interface DomainGaugeOptions {
  readonly now?: () => number;
  readonly collectTimeoutMs?: number;
  /** Where a failed or slow collection is reported (at `error`). */
  readonly log?: Logger;
}

/**
 * Gauges computed from the store when `/metrics` is scraped, for alerts: rights requests overdue
 * and due soon, fields past expiry per system, and how far the journal fold and the stream
 * exports lag. One round of queries serves every gauge of a scrape; a store slower than
 * `collectTimeoutMs` (or failing) leaves the previous values and counts
 * `lethe_metrics_collect_failures_total`, so that a scrape never hangs on the store.
 */
export function registerDomainGauges(
  metrics: Metrics,
  store: Store,
  pastExpiry: PastExpiryCount,
  options: DomainGaugeOptions = {},
): void {
  const queries = store.repository.gauges;
  const now = options.now ?? Date.now;
  const timeoutMs = options.collectTimeoutMs ?? DEFAULT_COLLECT_TIMEOUT_MS;
  const log = options.log ?? SILENT_LOGGER;
  const failures = metrics.counter(
    'lethe_metrics_collect_failures_total',
    'Scrapes whose store-computed gauges kept their previous values (store slow or failing).',
  );
  let pending: Promise<Snapshot | undefined> | undefined;
  // The gauges' collect callbacks run together in one scrape: they share one snapshot.
  const snapshot = () => {
    pending ??= bounded(take(store, queries, pastExpiry, now()), timeoutMs)
      .then((taken) => {
        if (!taken)
          log.error({ timeoutMs }, 'metrics: the store did not answer in time; gauges keep their values');
        return taken;
      })
      .catch((error: unknown) => {
        log.error({ err: error }, 'metrics: reading the store failed; gauges keep their values');
        return undefined;
      })
      .then((taken) => {
        if (!taken) failures.inc();
        return taken;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  metrics.gauge('lethe_requests_overdue', 'Open rights requests past their deadline.', [], async function () {
    const taken = await snapshot();
    if (taken) this.set(taken.overdue);
  });
  metrics.gauge(
    'lethe_requests_due_soon',
    `Open rights requests due within ${DUE_SOON_DAYS} days (not overdue yet).`,
    [],
    async function () {
      const taken = await snapshot();
      if (taken) this.set(taken.dueSoon);
    },
  );
  metrics.gauge(
    'lethe_fields_past_expiry',
    'Subject fields past their expiry and still to be deleted (not erased, or used again since; legal holds left out), by system.',
    ['system'],
    async function () {
      const taken = await snapshot();
      if (!taken) return;
      // A system whose backlog is cleared reports nothing rather than a stale count.
      this.reset();
      for (const [system, count] of taken.fieldsPastExpiry) this.set({ system }, count);
    },
  );
  metrics.gauge(
    'lethe_ingest_lag_seconds',
    'Age of the oldest accepted usage-journal entry not folded into the expiries yet, store-wide (0 when caught up).',
    [],
    async function () {
      const taken = await snapshot();
      if (taken) this.set(ageSeconds(taken.now, taken.oldestUnfoldedAppend));
    },
  );
  metrics.gauge(
    'lethe_export_lag_seconds',
    'Per stream export, age of the oldest base-stream event it has not delivered yet (0 when caught up).',
    ['export'],
    async function () {
      const taken = await snapshot();
      if (!taken) return;
      this.reset();
      for (const [name, oldest] of taken.exportBacklogs)
        this.set({ export: name }, ageSeconds(taken.now, oldest));
    },
  );
}

async function take(
  store: Store,
  queries: DomainGaugeQueries,
  pastExpiry: PastExpiryCount,
  now: number,
): Promise<Snapshot> {
  const [deadlines, fieldsPastExpiry, journal, exportBacklogs] = await Promise.all([
    queries.requestDeadlines(now, now + DUE_SOON_DAYS * DAY_MS),
    pastExpiry.fieldsPastExpiry(now),
    store.journalBacklog(),
    queries.exportBacklogs(),
  ]);
  return { now, ...deadlines, fieldsPastExpiry, oldestUnfoldedAppend: journal.oldestAt, exportBacklogs };
}

function ageSeconds(now: number, since: number | undefined): number {
  return since === undefined ? 0 : Math.max(0, now - since) / 1000;
}

/** The promise's value, or undefined once `ms` have passed (the query itself runs on). */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
