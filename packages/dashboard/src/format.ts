const DAY_MS = 86_400_000;

/** `2025-01-05` from an ISO instant: days are UTC throughout Lethe. */
export function dayOf(instant: string): string {
  return instant.slice(0, 10);
}

/** "in 12 days", "today", "3 days ago", relative to `now`. */
export function relativeDays(instant: string, now = Date.now()): string {
  const days = Math.round((Date.parse(instant) - now) / DAY_MS);
  if (days === 0) return 'today';
  if (days > 0) return `in ${days} day${days === 1 ? '' : 's'}`;
  return `${-days} day${days === -1 ? '' : 's'} ago`;
}

export function isPast(instant: string, now = Date.now()): boolean {
  return Date.parse(instant) <= now;
}

/** `2024-05-20 08:30 UTC` from an ISO instant: when the minute matters (consent, audit). */
export function minuteOf(instant: string): string {
  return `${instant.slice(0, 10)} ${instant.slice(11, 16)} UTC`;
}
