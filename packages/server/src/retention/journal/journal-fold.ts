import { AppError } from '../../lib/app-error.js';
import { SILENT_LOGGER, type Logger } from '../../lib/logger.js';
import type { JournalBacklog, Store } from '../../store/store.js';

export interface JournalSettings {
  /** Events folded per transaction at most (a fold that is behind takes this many each time). */
  readonly maxEventsPerFold: number;
  /** Ingest answers 503 `INGEST_BACKLOG` while more events than this wait to be folded. */
  readonly maxBacklogEvents: number;
  /** After a fold that emptied the journal, how long appends gather before the next one. */
  readonly gatherMs: number;
  /** How often an idle node looks at the journal (another node's appends do not wake it). */
  readonly pollMs: number;
}

export const DEFAULT_JOURNAL_SETTINGS: JournalSettings = {
  maxEventsPerFold: 50_000,
  maxBacklogEvents: 2_000_000,
  gatherMs: 100,
  pollMs: 1_000,
};

/** The gauges and counter the fold keeps (`Metrics` has them: `lethe_usage_journal_*`). */
export interface JournalMetrics {
  readonly foldedEvents: { inc(labels: Record<string, string>, by: number): void };
  readonly journalBacklogEvents: { set(value: number): void };
  readonly journalLagSeconds: { set(value: number): void };
}

/** What `/readyz` and the metrics show of the journal. */
export interface JournalStatus {
  readonly backlogEvents: number;
  /** Age of the oldest unfolded entry: how far the aggregates lag behind acknowledged ingest. */
  readonly lagSeconds: number;
  /** Why the last fold failed, until one succeeds (`/readyz` then answers 503). */
  readonly foldError?: string;
}

/**
 * The background fold of the usage journal (docs/retention.md): ingest appends and acknowledges,
 * this loop applies the journal to the aggregates in large transactions. Reads never depend on
 * it being caught up (they drain the journal first, `Store.freshAggregates`); it keeps that
 * drain short and the journal small, and refuses ingest while the backlog is over its limit.
 */
export class JournalFold {
  private backlog: JournalBacklog = { rows: 0, events: 0, oldestAt: undefined };
  private running: Promise<void> | undefined;
  private stopped = true;
  private wakeUp: (() => void) | undefined;
  private metrics: JournalMetrics | undefined;
  private foldError: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly settings: JournalSettings = DEFAULT_JOURNAL_SETTINGS,
    private readonly log: Logger = SILENT_LOGGER,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts the loop (idempotent); the backlog left by a previous life is folded first. */
  async start(metrics?: JournalMetrics): Promise<void> {
    this.metrics = metrics;
    if (this.running) return;
    this.stopped = false;
    await this.refresh();
    this.running = this.loop();
  }

  /** Ends the loop after the fold under way; the journal keeps what is left (it is durable). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.running;
    this.running = undefined;
  }

  /** Refuses a batch while the backlog is over its limit: the client retries after the header. */
  admit(): void {
    if (this.backlog.events <= this.settings.maxBacklogEvents) return;
    throw new AppError(
      'INGEST_BACKLOG',
      `${this.backlog.events} accepted events wait to be folded (limit ${this.settings.maxBacklogEvents}); retry later.`,
      undefined,
      { retryAfterSeconds: 1 },
    );
  }

  /** An append committed `events` events: counted until the next fold, and the loop woken. */
  appended(events: number): void {
    if (events === 0) return;
    this.backlog = {
      rows: this.backlog.rows + 1,
      events: this.backlog.events + events,
      oldestAt: this.backlog.oldestAt ?? this.now(),
    };
    this.publish();
    this.wakeUp?.();
  }

  status(): JournalStatus {
    const oldest = this.backlog.oldestAt;
    return {
      backlogEvents: this.backlog.events,
      lagSeconds: oldest === undefined ? 0 : Math.max(0, this.now() - oldest) / 1000,
      ...(this.foldError === undefined ? {} : { foldError: this.foldError }),
    };
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let folded = 0;
      try {
        folded = (await this.store.fold(this.settings.maxEventsPerFold)).events;
        this.metrics?.foldedEvents.inc({}, folded);
        this.foldError = undefined;
        await this.refresh();
      } catch (error) {
        this.foldError = error instanceof Error ? error.message : String(error);
        this.log.error({ err: error }, 'usage journal fold failed');
      }
      // Behind: fold again at once. Otherwise let appends gather, so that folds stay large.
      if (folded >= this.settings.maxEventsPerFold) continue;
      if (this.backlog.events === 0) await this.sleep(this.settings.pollMs);
      if (!this.stopped) await this.sleep(this.settings.gatherMs, false);
    }
  }

  private async refresh(): Promise<void> {
    this.backlog = await this.store.journalBacklog();
    this.publish();
  }

  private publish(): void {
    const status = this.status();
    this.metrics?.journalBacklogEvents.set(status.backlogEvents);
    this.metrics?.journalLagSeconds.set(status.lagSeconds);
  }

  /** Waits `ms`, or until an append (when `wakeable`) or `stop` wakes the loop. */
  private sleep(ms: number, wakeable = true): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const stopOnly = () => {
        if (this.stopped) done();
      };
      this.wakeUp = wakeable ? done : stopOnly;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}
