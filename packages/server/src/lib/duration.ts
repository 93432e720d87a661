/**
 * ISO 8601 durations (`P2Y`, `P6M`, `P120D`, `PT36H`, `P1Y2M3DT4H`) and calendar arithmetic in UTC.
 *
 * Years and months move the calendar date and clamp to the end of the month
 * (2024-01-31 + P1M = 2024-02-29), then weeks and days move whole days, then the time part is
 * added as elapsed time. This is the order Temporal and java.time use, so a retention reads the
 * way a lawyer writes it.
 */
export interface Duration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

const PATTERN = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const MAX_COMPONENT = 100_000;
const DAY_MS = 86_400_000;

/** Parses an ISO 8601 duration with whole-number components; returns undefined when it is not one. */
export function parseDuration(text: string): Duration | undefined {
  const match = PATTERN.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const parts = match.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  if (parts.some((part) => !Number.isSafeInteger(part) || part > MAX_COMPONENT)) return undefined;
  const [years = 0, months = 0, weeks = 0, days = 0, hours = 0, minutes = 0, seconds = 0] = parts;
  return { years, months, weeks, days, hours, minutes, seconds };
}

/** The instant `duration` before `epochMs`, with the same calendar arithmetic run backwards. */
export function subtractDuration(epochMs: number, duration: Duration): number {
  return addDuration(epochMs, {
    years: -duration.years,
    months: -duration.months,
    weeks: -duration.weeks,
    days: -duration.days,
    hours: -duration.hours,
    minutes: -duration.minutes,
    seconds: -duration.seconds,
  });
}

/** Adds a duration to an instant (epoch milliseconds, UTC) with calendar arithmetic. */
export function addDuration(epochMs: number, duration: Duration): number {
  const start = new Date(epochMs);
  const totalMonths =
    start.getUTCFullYear() * 12 + start.getUTCMonth() + duration.years * 12 + duration.months;
  const year = Math.floor(totalMonths / 12);
  const month = totalMonths - year * 12;
  const day = Math.min(start.getUTCDate(), daysInMonth(year, month));
  const timeOfDay = epochMs - Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  const date = Date.UTC(year, month, day) + (duration.weeks * 7 + duration.days) * DAY_MS;
  const elapsed = ((duration.hours * 60 + duration.minutes) * 60 + duration.seconds) * 1000;
  return date + timeOfDay + elapsed;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}
