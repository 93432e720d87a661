/**
 * When a rights request must be answered, per jurisdiction (DESIGN.md §6). Periods run from the
 * instant the request was received and use the calendar arithmetic of duration.ts, in UTC.
 */
import type { Jurisdiction } from '@lethe/api';
import { addDuration, parseDuration, type Duration } from '../lib/duration.js';
import { DAY_MS } from '../lib/time.js';

export interface JurisdictionRule {
  /** ISO 8601 duration from receipt to the answer, e.g. `P1M`, `P45D`. */
  readonly respondWithin: string;
  /** How much longer one extension may add, counted from the first due date; none if absent. */
  readonly extension?: string;
  /** Receipt must be confirmed to the person within this many business days (CCPA). */
  readonly confirmReceiptWithinBusinessDays?: number;
}

/**
 * The defaults; a deployment may configure others. GDPR Art. 12(3): one month from receipt,
 * extendable by two further months when the person is told why within the first month. CCPA
 * §1798.130(a)(2): 45 days, +45 once, with receipt confirmed within 10 business days (CCPA
 * regulations §7021). PIPEDA s. 8(3)-(4): 30 days, +30. LGPD Art. 19 II: 15 days. Australian
 * Privacy Principle 12.4: 30 days for agencies, the usual reading of "a reasonable period".
 */
export const DEFAULT_JURISDICTION_RULES: Readonly<Record<Jurisdiction, JurisdictionRule>> = {
  gdpr: { respondWithin: 'P1M', extension: 'P2M' },
  ccpa: { respondWithin: 'P45D', extension: 'P45D', confirmReceiptWithinBusinessDays: 10 },
  pipeda: { respondWithin: 'P30D', extension: 'P30D' },
  lgpd: { respondWithin: 'P15D' },
  app: { respondWithin: 'P30D' },
};

/** The deadline cannot be extended: the rule has no extension, or it was already used. */
export class DeadlineError extends Error {
  readonly code = 'NO_EXTENSION';

  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

/**
 * The due date: receipt plus the rule's period, calendar-wise, so GDPR's month from 2026-01-31
 * ends on 2026-02-28 (the month is clamped, never spilling into March). It is the same instant of
 * day as the receipt, not the end of that day: earlier, so the safer reading.
 *
 * @example dueAt(Date.parse('2026-01-31T09:00:00Z'), DEFAULT_JURISDICTION_RULES.gdpr) // 2026-02-28T09:00Z
 */
export function dueAt(receivedAt: number, rule: JurisdictionRule): number {
  return addDuration(receivedAt, ruleDuration(rule.respondWithin));
}

/**
 * The due date once extended. The extension runs on from the first due date (GDPR: "may be
 * extended by two further months"), which for month-end receipts is earlier than receipt + P3M,
 * and so again the safer reading. An extension is granted once: pass `alreadyExtended` to refuse
 * a second one.
 */
export function extendedDueAt(
  receivedAt: number,
  rule: JurisdictionRule,
  options: { readonly alreadyExtended?: boolean } = {},
): number {
  if (rule.extension === undefined) {
    throw new DeadlineError('This jurisdiction allows no extension.');
  }
  if (options.alreadyExtended) {
    throw new DeadlineError('The deadline was already extended; it can be extended once.');
  }
  return addDuration(dueAt(receivedAt, rule), ruleDuration(rule.extension));
}

/** When receipt must be confirmed to the person, or undefined when the rule asks for no confirmation. */
export function receiptConfirmationDueAt(receivedAt: number, rule: JurisdictionRule): number | undefined {
  const days = rule.confirmReceiptWithinBusinessDays;
  return days === undefined ? undefined : addBusinessDays(receivedAt, days);
}

/**
 * Moves forward `days` business days (Monday to Friday, in UTC), keeping the time of day. Public
 * holidays are not known here: there is no holiday calendar, so a deadline may come a day or two
 * earlier than a lawyer would count, never later. From a Saturday or Sunday, one business day
 * ahead is the Monday.
 */
export function addBusinessDays(from: number, days: number): number {
  if (!Number.isSafeInteger(days) || days < 0) {
    throw new RangeError(`Business days must be a whole number of at least 0, not ${days}.`);
  }
  if (days === 0) return from;
  // Counting forward from a weekend is the same as counting from the Friday before it, and from
  // a weekday each 5 business days are exactly one week.
  const weekday = new Date(from).getUTCDay();
  let at = from - (weekday === 6 ? 1 : weekday === 0 ? 2 : 0) * DAY_MS;
  at += Math.floor(days / 5) * 7 * DAY_MS;
  for (let remaining = days % 5; remaining > 0;) {
    at += DAY_MS;
    if (isBusinessDay(at)) remaining -= 1;
  }
  return at;
}

function isBusinessDay(epochMs: number): boolean {
  const weekday = new Date(epochMs).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

/**
 * Whole days left until the due date, rounded down: 0 on the last day, negative once overdue
 * (-1 from the first moment past it), so `daysLeft < 0` exactly when `isOverdue`.
 */
export function daysLeft(dueAt: number, now: number): number {
  return Math.floor((dueAt - now) / DAY_MS);
}

export function isOverdue(dueAt: number, now: number): boolean {
  return now > dueAt;
}

// Rules are configuration, so a malformed one is a programming error, not the caller's.
function ruleDuration(text: string): Duration {
  const duration = parseDuration(text);
  if (!duration) throw new RangeError(`"${text}" is not an ISO 8601 duration such as P1M or P45D.`);
  return duration;
}
