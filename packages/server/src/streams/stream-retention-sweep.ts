import { LETHE_ITSELF } from '../auth/principal.js';
import { parseDuration, subtractDuration, type Duration } from '../lib/duration.js';
import type { Store } from '../store/store.js';
import { audit } from '../audit/audit-trail.js';

/** `LETHE_STREAM_RETENTION` (an ISO 8601 duration such as `P30D`); undefined when unset. */
export function streamRetentionFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Duration | undefined {
  const text = env['LETHE_STREAM_RETENTION'];
  if (text === undefined || text === '') return undefined;
  const duration = parseDuration(text);
  if (duration === undefined) {
    throw new Error(`LETHE_STREAM_RETENTION must be an ISO 8601 duration like P30D or PT12H, got "${text}"`);
  }
  return duration;
}

/**
 * Deletes base-stream events older than the stream retention (`LETHE_STREAM_RETENTION`, an ISO
 * 8601 duration counted from the event's time; unset keeps events for ever). An event an export
 * has not delivered yet is kept whatever its age, so no export ever misses one; a stalled export
 * therefore holds the stream back (its status shows the lag). Each run is one audited
 * transaction and idempotent; `createLethe` runs it with the key retention sweep.
 *
 * This removes ciphertext: what makes personal values unreadable is shredding their keys.
 */
export class StreamRetentionSweep {
  constructor(
    private readonly store: Store,
    private readonly retention: Duration | undefined,
  ) {}

  /** Deletes what is due at `now`; returns how many events went. */
  async run(now = Date.now()): Promise<number> {
    const retention = this.retention;
    if (retention === undefined) return 0;
    const before = subtractDuration(now, retention);
    return this.store.transaction(async (repository) => {
      const undelivered = await repository.streamExports.lowestPosition();
      const deleted = await repository.streams.deleteBefore(before, undelivered);
      if (deleted > 0) {
        const target = `events:${deleted} before:${new Date(before).toISOString()}`;
        await audit(repository, LETHE_ITSELF, 'streams.prune', target);
      }
      return deleted;
    });
  }
}
