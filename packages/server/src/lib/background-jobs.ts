import type { Logger } from './logger.js';

type Labels = Record<string, string>;

/** The counters a job run is recorded in (`Metrics` has them: `lethe_job_*`). */
export interface JobMetrics {
  readonly jobRuns: { inc(labels: Labels): void };
  readonly jobDuration: { observe(labels: Labels, seconds: number): void };
}

export interface JobSettings {
  /** The `job` label of its metrics; also what the overlap guard goes by, so one job per name. */
  readonly name: string;
  readonly intervalMs: number;
  /** Logged with the error when a run rejects. */
  readonly failure: string;
  /** Runs once before `start` resolves (work that must be done before the server serves). */
  readonly runAtStart?: boolean;
  readonly run: () => Promise<void>;
  /** Called by `stop` once the job's last run has ended: waits for work its runs started and left. */
  readonly stop?: () => Promise<void>;
}

/** A run waits its interval plus up to this share of it, so that nodes drift apart. */
export const JOB_JITTER = 0.1;

type Outcome = 'ok' | 'error' | 'skipped';

/**
 * Background work on a timer: each job runs every `intervalMs` (plus a small random jitter), never
 * twice at once (a tick that finds the previous run still going is skipped), a failure is logged
 * and counted rather than left as an unhandled rejection, and `stop` clears the timers and waits
 * for the runs in flight. Timers are `unref`'d: they never keep the process alive.
 */
export class BackgroundJobs {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly stops: (() => Promise<void>)[] = [];
  private stopped = false;

  constructor(
    private readonly log: Logger,
    private readonly metrics?: JobMetrics,
    private readonly random: () => number = Math.random,
  ) {}

  /** Schedules the job; resolves once its run at start (when asked) has ended. */
  async start(job: JobSettings): Promise<void> {
    if (job.stop) this.stops.push(job.stop);
    if (job.runAtStart) await this.runOnce(job);
    this.schedule(job);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.inFlight.values());
    await Promise.all(this.stops.map((stop) => stop()));
  }

  /** The delay before the next run: the interval and up to `JOB_JITTER` of it more. */
  delay(intervalMs: number): number {
    return intervalMs + Math.floor(this.random() * intervalMs * JOB_JITTER);
  }

  private schedule(job: JobSettings): void {
    if (this.stopped) return;
    // Scheduled from the tick, not from the end of the run: the interval stays fixed.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.schedule(job);
      void this.runOnce(job);
    }, this.delay(job.intervalMs)).unref();
    this.timers.add(timer);
  }

  private runOnce(job: JobSettings): Promise<void> {
    const running = this.inFlight.get(job.name);
    if (running) {
      this.record(job.name, 'skipped');
      return running;
    }
    const startedAt = performance.now();
    // A job that throws before returning its promise is a failed run too.
    const run = new Promise<void>((resolve) => resolve(job.run()))
      .then(
        () => this.record(job.name, 'ok', startedAt),
        (error: unknown) => {
          this.log.error({ err: error }, job.failure);
          this.record(job.name, 'error', startedAt);
        },
      )
      .finally(() => this.inFlight.delete(job.name));
    this.inFlight.set(job.name, run);
    return run;
  }

  private record(job: string, outcome: Outcome, startedAt?: number): void {
    this.metrics?.jobRuns.inc({ job, outcome });
    if (startedAt !== undefined)
      this.metrics?.jobDuration.observe({ job }, (performance.now() - startedAt) / 1000);
  }
}
