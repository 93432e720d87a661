import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BackgroundJobs, JOB_JITTER, type JobMetrics, type JobSettings } from './background-jobs.js';
import type { Logger } from './logger.js';

function recorder() {
  const errors: { fields: object; message: string }[] = [];
  const runs: string[] = [];
  const durations: string[] = [];
  const log: Logger = { info() {}, error: (fields, message) => void errors.push({ fields, message }) };
  const metrics: JobMetrics = {
    jobRuns: { inc: (labels) => void runs.push(`${labels['job']}:${labels['outcome']}`) },
    jobDuration: { observe: (labels) => void durations.push(labels['job']!) },
  };
  return { log, metrics, errors, runs, durations };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

function job(run: () => Promise<void>, extra: Partial<JobSettings> = {}): JobSettings {
  return { name: 'sweep', intervalMs: 1_000, failure: 'sweep failed', run, ...extra };
}

describe('BackgroundJobs', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs every interval, and at start only when asked', async () => {
    const { log, metrics, runs } = recorder();
    const jobs = new BackgroundJobs(log, metrics, () => 0);
    const run = vi.fn(async () => {});
    await jobs.start(job(run));
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(run).toHaveBeenCalledTimes(3);
    expect(runs).toEqual(['sweep:ok', 'sweep:ok', 'sweep:ok']);

    const atStart = vi.fn(async () => {});
    await jobs.start(job(atStart, { name: 'rotation', runAtStart: true }));
    expect(atStart).toHaveBeenCalledTimes(1);
    await jobs.stop();
  });

  it('waits the interval plus a jitter of at most a tenth of it', () => {
    const { log } = recorder();
    expect(new BackgroundJobs(log, undefined, () => 0).delay(60_000)).toBe(60_000);
    const highest = new BackgroundJobs(log, undefined, () => 0.999_999).delay(60_000);
    expect(highest).toBeGreaterThan(60_000);
    expect(highest).toBeLessThan(60_000 * (1 + JOB_JITTER));
    const jobs = new BackgroundJobs(log);
    for (let i = 0; i < 100; i += 1) {
      const delay = jobs.delay(1_000);
      expect(delay).toBeGreaterThanOrEqual(1_000);
      expect(delay).toBeLessThan(1_000 * (1 + JOB_JITTER));
    }
  });

  it('does not start a run while the previous one is still going', async () => {
    const { log, metrics, runs } = recorder();
    const jobs = new BackgroundJobs(log, metrics, () => 0);
    const slow = deferred();
    const run = vi.fn(() => slow.promise);
    await jobs.start(job(run));
    await vi.advanceTimersByTimeAsync(3_500);
    expect(run).toHaveBeenCalledTimes(1);
    expect(runs).toEqual(['sweep:skipped', 'sweep:skipped']);
    slow.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual(['sweep:skipped', 'sweep:skipped', 'sweep:ok']);
    // The next tick (at 4 s) starts a run again.
    await vi.advanceTimersByTimeAsync(500);
    expect(run).toHaveBeenCalledTimes(2);
    await jobs.stop();
  });

  it('logs and counts a failure, thrown or rejected, and keeps running', async () => {
    const { log, metrics, errors, runs, durations } = recorder();
    const jobs = new BackgroundJobs(log, metrics, () => 0);
    const failure = new Error('store gone');
    await jobs.start(job(() => Promise.reject(failure), { runAtStart: true }));
    await jobs.start(
      job(
        () => {
          throw failure;
        },
        { name: 'eager', failure: 'eager failed' },
      ),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect(errors).toEqual([
      { fields: { err: failure }, message: 'sweep failed' },
      { fields: { err: failure }, message: 'sweep failed' },
      { fields: { err: failure }, message: 'eager failed' },
    ]);
    expect(runs).toEqual(['sweep:error', 'sweep:error', 'eager:error']);
    expect(durations).toEqual(['sweep', 'sweep', 'eager']);
    await jobs.stop();
  });

  it('stop clears the timers and waits for the run in flight', async () => {
    const { log } = recorder();
    const jobs = new BackgroundJobs(log, undefined, () => 0);
    const slow = deferred();
    const run = vi.fn(() => slow.promise);
    await jobs.start(job(run));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run).toHaveBeenCalledTimes(1);

    let stopped = false;
    const stopping = jobs.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(stopped).toBe(false);
    slow.resolve();
    await stopping;
    expect(stopped).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(run).toHaveBeenCalledTimes(1);
  });
});

describe('BackgroundJobs timers', () => {
  it('do not keep the process alive', async () => {
    const { log } = recorder();
    const jobs = new BackgroundJobs(log);
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    await jobs.start(job(async () => {}));
    const timer = setTimeoutSpy.mock.results[0]?.value as NodeJS.Timeout;
    setTimeoutSpy.mockRestore();
    expect(timer.hasRef()).toBe(false);
    await jobs.stop();
  });
});
