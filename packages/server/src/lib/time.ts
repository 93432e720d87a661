/** Wire times: ISO 8601 instants with an explicit zone, and `YYYY-MM-DD` days in UTC. */

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
export const DAY_MS = 86_400_000;

/** Epoch ms of an ISO 8601 instant that names its zone (`Z` or `±hh:mm`); undefined otherwise. */
export function parseInstant(text: string): number | undefined {
  if (!INSTANT.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Epoch ms of the start (00:00 UTC) of a `YYYY-MM-DD` day; undefined for a date that does not exist. */
export function parseDay(text: string): number | undefined {
  const match = DAY.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
    ? ms
    : undefined;
}

export function toIso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function toDay(epochMs: number): string {
  return toIso(epochMs).slice(0, 10);
}
