import { isConsentedUse, type ConsentWindow } from '../consent/consent.js';
import { LAST_USE, type Aging } from './aging/aging.js';

/**
 * Expiry rules (DESIGN.md §4, docs/consent.md), as plain functions; the one place of the rule.
 * - a use keeps a field until `anchor + retention(policy)`, where the policy's aging strategy
 *   names the anchor: the last use (the default), the first use, the subject's first event of a
 *   name (kept, "waiting", until it arrives), or a fixed day (kept until that day, no retention
 *   added) — docs/retention.md "Aging";
 * - under a consent-based policy, only while consent stands: a consented use keeps the field
 *   until its retention end, cut at the withdrawal if consent was withdrawn since; a use without
 *   consent (a violation) keeps it only until the use itself ("delete now"), and never past a
 *   withdrawal: after consent is withdrawn, a use without consent extends nothing;
 * - a (subject, field) expires at the max over its policies, decided by the policy (and the
 *   system of its last use) that gives that max;
 * - a subject expires at the max over its fields.
 */
export interface UseOfField {
  readonly policy: string;
  /** Needed by a `first-use` policy; the last use stands in for it when left out. */
  readonly firstUseAt?: number;
  readonly lastUseAt: number;
  readonly lastSystem: string;
  /** Latest use made while consent stood; only meaningful under a consent-based policy. */
  readonly lastConsentedUseAt?: number | null;
}

export interface Expiry {
  readonly expiresAt: number;
  readonly policy: string;
  readonly system: string;
}

/** `retentionEnd(policy, lastUseAt)` gives when one use stops keeping the field, consent aside. */
export type RetentionEnd = (policy: string, lastUseAt: number) => number;

/**
 * The expiry of a field that waits for an event that has not arrived (an `event:` policy):
 * 9999-12-31, never due. Answers say `waitingFor` wherever it shows (docs/retention.md).
 */
export const WAITING = Date.UTC(9999, 11, 31);

/** The aging of each policy and the subject's events (first occurrence per name). */
export interface SubjectAging {
  readonly agingOf: (policy: string) => Aging;
  readonly eventAt: (name: string) => number | undefined;
}

/** Every policy ages from the last use: the rule before strategies, and the default. */
export const BY_LAST_USE: SubjectAging = { agingOf: () => LAST_USE, eventAt: () => undefined };

/**
 * When the usage's retention ends by its policy's strategy, consent aside. Under `last-use` the
 * anchor is `lastUseAt` (for a consent-based policy the caller passes the latest consented use).
 */
export function strategyEnd(
  use: Pick<UseOfField, 'policy' | 'firstUseAt'>,
  lastUseAt: number,
  retentionEnd: RetentionEnd,
  aging: SubjectAging,
): number {
  const strategy = aging.agingOf(use.policy);
  switch (strategy.kind) {
    case 'last-use':
      return retentionEnd(use.policy, lastUseAt);
    case 'first-use':
      return retentionEnd(use.policy, use.firstUseAt ?? lastUseAt);
    case 'event': {
      const at = aging.eventAt(strategy.event);
      return at === undefined ? WAITING : retentionEnd(use.policy, at);
    }
    case 'until':
      return strategy.at;
  }
}

/**
 * The consent window that governs a policy's uses for the subject at hand, or undefined when the
 * policy is not consent-based (its uses keep the field regardless of consent).
 */
export type ConsentOfPolicy = (policy: string) => ConsentWindow | undefined;

/**
 * When one (subject, field, policy) usage stops keeping its field, with `E(x)` the policy's
 * strategy end (`strategyEnd`) anchored on the last use `x` where the strategy uses it:
 * - not consent-based: `E(lastUseAt)`;
 * - consent-based, with `c` the latest consented use and `W` the withdrawal (if any):
 *   max(consentedPart, violationPart), where consentedPart is `E(c)` cut at `W` (nothing when
 *   there is no `c`: only consented uses keep data), and violationPart is
 *   `violationKeepsUntil(lastUseAt)` when the latest use was not consented (it never extends into
 *   the future, nor past `W`). So a withdrawal ends a field waiting for an event at `W`.
 */
export function usageKeepsUntil(
  use: UseOfField,
  retentionEnd: RetentionEnd,
  consent: ConsentWindow | undefined,
  aging: SubjectAging = BY_LAST_USE,
): number {
  if (!consent) return strategyEnd(use, use.lastUseAt, retentionEnd, aging);
  const consented = use.lastConsentedUseAt ?? null;
  let keepsUntil = -Infinity;
  if (consented !== null) {
    const end = strategyEnd(use, consented, retentionEnd, aging);
    keepsUntil = consent.withdrawnAt === null ? end : Math.min(end, consent.withdrawnAt);
  }
  if (consented === null || use.lastUseAt > consented)
    keepsUntil = Math.max(keepsUntil, violationKeepsUntil(use.lastUseAt, consent));
  return keepsUntil;
}

/**
 * How long a use without consent at `at` keeps its field: until the use itself ("delete now"),
 * and, once consent was withdrawn, no later than the withdrawal. Without the cap a mailer that
 * keeps sending after an unsubscribe would push the deletion from the withdrawal to its last
 * send; the withdrawal is when the subject said stop (docs/consent.md).
 */
export function violationKeepsUntil(at: number, consent: ConsentWindow): number {
  return consent.withdrawnAt === null ? at : Math.min(at, consent.withdrawnAt);
}

/**
 * What a single use at `at` contributes, given its plain `retentionEnd`: the ingest hot path's
 * form of `usageKeepsUntil` (the max over a usage's uses equals that function's answer).
 */
export function useKeepsUntil(at: number, retentionEnd: number, consent: ConsentWindow | undefined): number {
  if (!consent) return retentionEnd;
  if (!isConsentedUse(consent, at)) return violationKeepsUntil(at, consent);
  return consent.withdrawnAt === null ? retentionEnd : Math.min(retentionEnd, consent.withdrawnAt);
}

export function fieldExpiry(
  uses: readonly UseOfField[],
  retentionEnd: RetentionEnd,
  consentOf: ConsentOfPolicy = () => undefined,
  aging: SubjectAging = BY_LAST_USE,
): Expiry | undefined {
  let best: Expiry | undefined;
  for (const use of uses) {
    const expiresAt = usageKeepsUntil(use, retentionEnd, consentOf(use.policy), aging);
    if (!best || expiresAt > best.expiresAt) best = { expiresAt, policy: use.policy, system: use.lastSystem };
  }
  return best;
}

export function subjectExpiry<T extends Expiry>(fields: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const field of fields) if (!best || field.expiresAt > best.expiresAt) best = field;
  return best;
}
