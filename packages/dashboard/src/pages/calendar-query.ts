/**
 * The expiry calendar's query and its address: `?preset=overdue|today|7d|30d` or `?from=&to=`,
 * with `system=`, `level=subject` and `overdue=hide` when they differ from the defaults. A preset
 * is kept as such in the address, so a link opened tomorrow means tomorrow's next 7 days.
 */
const DAY_MS = 86_400_000;

export type Preset = 'overdue' | 'today' | '7d' | '30d';

export const PRESETS: readonly { key: Preset; label: string; days: number }[] = [
  { key: 'overdue', label: 'Overdue', days: 0 },
  { key: 'today', label: 'Today', days: 1 },
  { key: '7d', label: 'Next 7 days', days: 7 },
  { key: '30d', label: 'Next 30 days', days: 30 },
];

/** The calendar opens on the next 7 days, overdue included: what is late comes first. */
export const DEFAULT_PRESET: Preset = '7d';

/**
 * Where "overdue included" starts the feed: before any expiry Lethe can hold. The feed lists
 * erased fields no more, so this is what is still to be deleted or held.
 */
export const EARLIEST_DAY = '1970-01-01';

export interface CalendarQuery {
  readonly preset: Preset | undefined;
  /** The days shown (for "overdue", up to today); a preset's days count from today. */
  readonly from: string;
  readonly to: string;
  readonly system: string;
  readonly level: 'field' | 'subject';
  /** Whether a preset's list starts with everything still due from past days. */
  readonly withOverdue: boolean;
}

const isDay = (value: string | null): value is string =>
  value !== null && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value));

export function dayAfter(day: string, days: number): string {
  return new Date(Date.parse(day) + days * DAY_MS).toISOString().slice(0, 10);
}

/** A preset's days, counted from `today` (UTC, as Lethe's days are). */
export function presetRange(preset: Preset, today = new Date().toISOString().slice(0, 10)) {
  const days = PRESETS.find((entry) => entry.key === preset)?.days ?? 0;
  return { from: days === 0 ? EARLIEST_DAY : today, to: dayAfter(today, Math.max(0, days - 1)) };
}

/** The query an address asks for; what it does not say (or says wrongly) takes the default. */
export function calendarQuery(params: URLSearchParams, today?: string): CalendarQuery {
  const asked = params.get('preset');
  const from = params.get('from');
  const to = params.get('to');
  const custom = asked === null && isDay(from) && isDay(to) && from <= to;
  const preset = custom ? undefined : (PRESETS.find((entry) => entry.key === asked)?.key ?? DEFAULT_PRESET);
  return {
    preset,
    ...(preset ? presetRange(preset, today) : { from: from as string, to: to as string }),
    system: params.get('system') ?? '',
    level: params.get('level') === 'subject' && preset !== 'overdue' ? 'subject' : 'field',
    withOverdue: preset !== undefined && preset !== 'overdue' && params.get('overdue') !== 'hide',
  };
}

/**
 * The query with another preset: same system and level; overdue included unless it was hidden on
 * the range preset this one replaces.
 */
export function withPreset(query: CalendarQuery, preset: Preset, today?: string): CalendarQuery {
  const hidden = query.preset !== undefined && query.preset !== 'overdue' && !query.withOverdue;
  return {
    ...query,
    preset,
    ...presetRange(preset, today),
    level: preset === 'overdue' ? 'field' : query.level,
    withOverdue: preset !== 'overdue' && !hidden,
  };
}

/** The address of a query; `calendarQuery(calendarPath(q))` gives `q` back. */
export function calendarPath(query: CalendarQuery): string {
  const params = new URLSearchParams();
  if (query.preset) params.set('preset', query.preset);
  else {
    params.set('from', query.from);
    params.set('to', query.to);
  }
  if (query.system) params.set('system', query.system);
  if (query.level === 'subject') params.set('level', 'subject');
  if (query.preset && query.preset !== 'overdue' && !query.withOverdue) params.set('overdue', 'hide');
  return `/calendar?${params.toString()}`;
}

/** The first day the feed lists: a preset with overdue starts before any expiry. */
export function feedFrom(query: CalendarQuery): string {
  return query.withOverdue ? EARLIEST_DAY : query.from;
}

/** What the list shows, in words. */
export function rangeLabel(query: CalendarQuery): string {
  const system = query.system ? ` in ${query.system}` : '';
  if (query.preset === 'overdue') return `Overdue: past expiry, still to delete${system}`;
  const days = query.from === query.to ? query.from : `${query.from} to ${query.to}`;
  return `${query.withOverdue ? 'Overdue and ' : ''}${days}${system}`;
}
