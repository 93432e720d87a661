import { randomUUID } from 'node:crypto';
import { SILENT_LOGGER, type Logger } from '../lib/logger.js';
import type { Store } from '../store/store.js';
import type { JobKind } from './job-kind.js';
import type { JobRow } from './job-tables.js';

export interface JobRunnerSettings {
  /** How long a node holds a job without a step before another node may take it over. */
  readonly leaseMs: number;
  /** How often a node looks for jobs another node queued (its own wake it at once). */
  readonly pollMs: number;
  /** A pause between steps, so that a long job leaves the writer to ingest now and then. */
  readonly pauseMs: number;
  /** After a failed step, the job is tried again after this times the failures so far. */
  readonly retryMs: number;
}

export const DEFAULT_JOB_RUNNER_SETTINGS: JobRunnerSettings = {
  leaseMs: 30_000,
  pollMs: 1_000,
  pauseMs: 0,
  retryMs: 5_000,
};

/** Failed steps in a row after which a job ends `failed`. */
export const MAX_JOB_ATTEMPTS = 3;

type StepOutcome = 'continue' | 'finished' | 'lost';

/**
 * Runs durable background jobs (the `jobs` table), one at a time per node, oldest first. A job is
 * claimed by compare-and-set on its lease, so nodes sharing a PostgreSQL store never run one
 * twice at once; each step renews the lease and commits its work with the job's checkpoint and
 * progress in one transaction, so a job interrupted anywhere (a stop, a crash) resumes from its
 * last step: at once after a stop (the lease is given back), after the lease ends after a crash.
 * On a store only this process opens (SQLite) leases left by an earlier life are not waited for.
 * A step that throws is tried again after a delay, and the job fails after `MAX_JOB_ATTEMPTS`.
 */
export class JobRunner {
  readonly owner = `node-${randomUUID()}`;
  private readonly kinds = new Map<string, JobKind>();
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly settings: JobRunnerSettings = DEFAULT_JOB_RUNNER_SETTINGS,
    private readonly log: Logger = SILENT_LOGGER,
    private readonly now: () => number = Date.now,
  ) {}

  register(kind: JobKind): void {
    this.kinds.set(kind.kind, kind);
  }

  /**
   * Before the first tick: on a store only this process opens (SQLite), the leases of open jobs
   * are an earlier life's (a crash), so they are freed rather than waited out.
   */
  async start(): Promise<void> {
    if (!this.store.capabilities.shared) await this.store.repository.jobs.releaseAll();
  }

  /** Something was queued: look at once (a run under way looks again when it ends). */
  wake(): void {
    if (!this.stopped) void this.tick();
  }

  /** Runs every claimable job to its end (or until `stop`); resolves when there is none left. Never rejects. */
  tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          while (!this.stopped && (await this.runNext()));
        } while (this.again && !this.stopped);
      } catch (error) {
        // The store is unreachable (or closing); the next tick tries again.
        if (!this.stopped) this.log.error({ err: error }, 'background jobs could not be read');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Ends after the step under way and gives its job back; the job stays open and durable. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Claims and runs one job; false when there was none to claim. */
  private async runNext(): Promise<boolean> {
    const jobs = this.store.repository.jobs;
    const candidate = await jobs.claimable(this.now());
    if (!candidate) return false;
    const now = this.now();
    if (!(await jobs.claim(candidate, this.owner, now, now + this.settings.leaseMs))) {
      return true; // another node took it: look for the next one
    }
    await this.run(candidate);
    return true;
  }

  private async run(claimed: JobRow): Promise<void> {
    const jobs = this.store.repository.jobs;
    for (;;) {
      if (this.stopped) return jobs.release(claimed.id, this.owner);
      let outcome: StepOutcome;
      try {
        outcome = await this.step(claimed.id);
      } catch (error) {
        if (this.stopped) return; // closing under the step: it rolled back, the lease runs out
        return this.failed(claimed.id, error);
      }
      if (outcome !== 'continue') return;
      // Always back to the event loop between steps: on SQLite a step never waits for I/O, and
      // without this a long job would keep requests (and timers) waiting until it ends.
      await new Promise((resolve) =>
        this.settings.pauseMs > 0 ? setTimeout(resolve, this.settings.pauseMs) : setImmediate(resolve),
      );
    }
  }

  /** A step threw (it rolled back): tried again later, by any node, until `MAX_JOB_ATTEMPTS`. */
  private async failed(id: string, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    const jobs = this.store.repository.jobs;
    const attempts = ((await jobs.get(id))?.attempts ?? 0) + 1;
    this.log.error({ err: error, job: id, attempts }, 'background job step failed');
    if (attempts >= MAX_JOB_ATTEMPTS) {
      await jobs.finish(id, this.owner, { state: 'failed', error: message, attempts, now: this.now() });
    } else {
      const retryAt = this.now() + this.settings.retryMs * attempts;
      await jobs.retryLater(id, this.owner, { error: message, attempts, retryAt });
    }
  }

  /** One step in one transaction: lease renewed first, then the work, then its checkpoint. */
  private async step(id: string): Promise<StepOutcome> {
    const peek = await this.store.repository.jobs.get(id);
    const kind = peek && this.kinds.get(peek.kind);
    if (!peek || !kind) throw new Error(`no runner for job kind ${peek?.kind ?? '(gone)'}`);
    return this.store.transaction(async (repository) => {
      const jobs = repository.jobs;
      if (!(await jobs.renew(id, this.owner, this.now() + this.settings.leaseMs))) return 'lost';
      const job = (await jobs.get(id)) as JobRow;
      const total = job.total ?? (await kind.total(repository, job));
      const step = await kind.step(repository, { ...job, total });
      const progress = {
        done: step.done,
        // Ingest during the job may add work beyond what was counted at the start.
        total: Math.max(total, step.done),
        checkpoint: step.checkpoint,
        result: step.result,
      };
      if (!step.finished) {
        await jobs.checkpoint(id, this.owner, progress);
        return 'continue';
      }
      await jobs.finish(id, this.owner, { state: 'done', now: this.now(), progress });
      return 'finished';
    }, kind.transaction);
  }
}
