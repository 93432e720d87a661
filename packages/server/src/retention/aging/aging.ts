import { AGING_EXAMPLES } from '@lethe/api';
import { AppError } from '../../lib/app-error.js';

/**
 * A policy's aging strategy (docs/retention.md, "Aging"): what its retention counts from.
 * - `last-use`: the latest use of the field under the policy (the default, DESIGN.md §4);
 * - `first-use`: the first use;
 * - `event:<name>`: the subject's first event of that name (e.g. `event:account-closed`); until
 *   it arrives the field is kept, "waiting for" it;
 * - `until:<YYYY-MM-DD>`: a fixed date: the field is kept until that day starts (UTC), whatever
 *   its uses; the retention is not added.
 */
export type Aging =
  | { readonly kind: 'last-use' }
  | { readonly kind: 'first-use' }
  | { readonly kind: 'event'; readonly event: string }
  | { readonly kind: 'until'; readonly at: number };

export const LAST_USE: Aging = { kind: 'last-use' };
const FIRST_USE: Aging = { kind: 'first-use' };

const EVENT = /^event:([a-z0-9][a-z0-9._-]{0,63})$/;
const UNTIL = /^until:(\d{4})-(\d{2})-(\d{2})$/;

/** Parses a stored or requested `since`; undefined when it is not one of the strategies. */
export function parseAging(since: string): Aging | undefined {
  if (since === 'last-use') return LAST_USE;
  if (since === 'first-use') return FIRST_USE;
  const event = EVENT.exec(since);
  if (event) return { kind: 'event', event: event[1] as string };
  const until = UNTIL.exec(since);
  if (until) {
    const [year, month, day] = until.slice(1).map(Number) as [number, number, number];
    const at = Date.UTC(year, month - 1, day);
    const date = new Date(at);
    // 2027-02-30 is not a day: Date.UTC would roll it over into March.
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      return undefined;
    }
    return { kind: 'until', at };
  }
  return undefined;
}

/** Parses a `since` from a request or throws `400 INVALID_AGING` naming the allowed forms. */
export function requireAging(since: string): Aging {
  const aging = parseAging(since);
  if (!aging) {
    throw new AppError(
      'INVALID_AGING',
      `"${since}" is not an aging strategy; use one of ${AGING_EXAMPLES.join(', ')}.`,
      { allowed: [...AGING_EXAMPLES] },
    );
  }
  return aging;
}

/** The event a policy waits for, when it is event-anchored. */
export function eventOf(aging: Aging): string | undefined {
  return aging.kind === 'event' ? aging.event : undefined;
}
