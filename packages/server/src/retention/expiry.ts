import { isConsentedUse, type ConsentWindow } from '../consent/consent.js';

/**
 * Expiry rules (DESIGN.md §4, docs/consent.md), as plain functions; the one place of the rule.
 * - a use keeps a field until `lastUse + retention(policy)`;
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
 * The consent window that governs a policy's uses for the subject at hand, or undefined when the
 * policy is not consent-based (its uses keep the field regardless of consent).
 */
export type ConsentOfPolicy = (policy: string) => ConsentWindow | undefined;

/**
 * When one (subject, field, policy) usage stops keeping its field:
 * - not consent-based: `retentionEnd(lastUseAt)`;
 * - consent-based, with `c` the latest consented use and `W` the withdrawal (if any):
 *   max(consentedPart, violationPart), where consentedPart is `retentionEnd(c)` cut at `W`
 *   (nothing when there is no `c`), and violationPart is `violationKeepsUntil(lastUseAt)` when the
 *   latest use was not consented (it never extends into the future, nor past `W`).
 */
export function usageKeepsUntil(
  use: UseOfField,
  retentionEnd: RetentionEnd,
  consent: ConsentWindow | undefined,
): number {
  if (!consent) return retentionEnd(use.policy, use.lastUseAt);
  const consented = use.lastConsentedUseAt ?? null;
  let keepsUntil = -Infinity;
  if (consented !== null) {
    const end = retentionEnd(use.policy, consented);
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
): Expiry | undefined {
  let best: Expiry | undefined;
  for (const use of uses) {
    const expiresAt = usageKeepsUntil(use, retentionEnd, consentOf(use.policy));
    if (!best || expiresAt > best.expiresAt) best = { expiresAt, policy: use.policy, system: use.lastSystem };
  }
  return best;
}

export function subjectExpiry<T extends Expiry>(fields: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const field of fields) if (!best || field.expiresAt > best.expiresAt) best = field;
  return best;
}
