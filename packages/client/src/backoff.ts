/** How a retry waits: doubling from `baseDelayMs` per attempt up to `maxDelayMs`, with jitter. */
export interface BackoffSchedule {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * The share of the ceiling always waited (0: full jitter, anywhere in [0, ceiling); 0.5: in
   * [ceiling/2, ceiling)). Default 0. Jitter keeps many clients that failed together apart.
   */
  readonly minShare?: number;
}

/**
 * The wait before retry number `attempt` (1 for the first retry): exponential backoff with
 * jitter. The SDK's publisher and the server's webhook deliveries both use it.
 *
 * @example backoffDelay(3, { baseDelayMs: 100, maxDelayMs: 30_000 }) // in [0, 400)
 */
export function backoffDelay(
  attempt: number,
  schedule: BackoffSchedule,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(schedule.maxDelayMs, schedule.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const floor = ceiling * (schedule.minShare ?? 0);
  return Math.floor(floor + random() * (ceiling - floor));
}
