/**
 * Exponential backoff with jitter, shared by the SDK's publisher and the server's request runner
 * so both wait the same way. The jitter spreads clients that failed together so they do not
 * retry together (the AWS Architecture Blog's "full" and "equal" jitter).
 */
export interface Backoff {
  /** The ceiling of the first attempt's wait; doubles per attempt. */
  readonly baseMs: number;
  /** The ceiling never grows past this. */
  readonly maxMs: number;
  /** `full`: anywhere from 0 to the ceiling; `equal`: from half the ceiling to all of it. */
  readonly jitter: 'full' | 'equal';
}

/**
 * The wait before retry `attempt` (1-based), in whole milliseconds. `random` is injectable so
 * tests can pin it.
 *
 * @example backoffDelay(3, { baseMs: 1_000, maxMs: 60_000, jitter: 'equal' }, () => 1) // 4_000
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  const floor = backoff.jitter === 'equal' ? ceiling / 2 : 0;
  return Math.round(floor + random() * (ceiling - floor));
}
