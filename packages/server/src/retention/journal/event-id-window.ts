import { LETHE_ITSELF } from '../../auth/principal.js';
import { parseDuration, subtractDuration, type Duration } from '../../lib/duration.js';
import type { Store } from '../../store/store.js';
import { audit } from '../../audit/audit-trail.js';

/** Event ids are remembered this long by default, like idempotency keys elsewhere. */
export const DEFAULT_EVENT_ID_WINDOW: Duration = parseDuration('P7D') as Duration;

/** `LETHE_EVENT_ID_WINDOW` (an ISO 8601 duration such as `P7D`); the default when unset. */
export function eventIdWindowFromEnv(env: Readonly<Record<string, string | undefined>>): Duration {
  const text = env['LETHE_EVENT_ID_WINDOW'];
  if (text === undefined || text === '') return DEFAULT_EVENT_ID_WINDOW;
  const duration = parseDuration(text);
  if (duration === undefined) {
    throw new Error(`LETHE_EVENT_ID_WINDOW must be an ISO 8601 duration like P7D or PT12H, got "${text}"`);
  }
  return duration;
}

/**
 * Bounds the event-id dedupe (docs/api.md, "Telemetry limits"): ids received longer ago than the
 * window are forgotten. Before that, the event-id horizon moves to the cutoff plus the allowed
 * clock skew: an event with an id dated before it may have been received before the cutoff, so
 * its retry could no longer be recognised and ingest refuses it (`EVENT_OUTSIDE_DEDUPE_WINDOW`)
 * instead of counting it twice. An event dated after it was received after the cutoff (an event
 * is never received before its time minus the skew), so its id, if seen, is still known.
 * Nothing moves until an id is actually due, so a young installation refuses nothing.
 */
export class EventIdWindow {
  constructor(
    private readonly store: Store,
    private readonly window: Duration,
    private readonly maxClockSkewMs: number,
  ) {}

  /** Forgets the ids due at `now`; returns how many went. */
  async run(now = Date.now()): Promise<number> {
    const cutoff = subtractDuration(now, this.window);
    const forgotten = await this.store.forgetEventIds(cutoff, cutoff + this.maxClockSkewMs);
    // After the fact: on SQLite the ids are in the journal's file, the audit trail in the main one.
    if (forgotten > 0) {
      const target = `event-ids:${forgotten} received-before:${new Date(cutoff).toISOString()}`;
      await this.store.transaction((repository) =>
        audit(repository, LETHE_ITSELF, 'events.forget-ids', target),
      );
    }
    return forgotten;
  }
}
