/**
 * Expiry rules (DESIGN.md §4), as plain functions:
 * - a use keeps a field until `lastUse + retention(policy)`;
 * - a (subject, field) expires at the max over its policies, decided by the policy (and the
 *   system of its last use) that gives that max;
 * - a subject expires at the max over its fields.
 */
export interface UseOfField {
  readonly policy: string;
  readonly lastUseAt: number;
  readonly lastSystem: string;
}

export interface Expiry {
  readonly expiresAt: number;
  readonly policy: string;
  readonly system: string;
}

/** `retentionEnd(policy, lastUseAt)` gives when one use stops keeping the field. */
export type RetentionEnd = (policy: string, lastUseAt: number) => number;

export function fieldExpiry(uses: readonly UseOfField[], retentionEnd: RetentionEnd): Expiry | undefined {
  let best: Expiry | undefined;
  for (const use of uses) {
    const expiresAt = retentionEnd(use.policy, use.lastUseAt);
    if (!best || expiresAt > best.expiresAt) best = { expiresAt, policy: use.policy, system: use.lastSystem };
  }
  return best;
}

export function subjectExpiry<T extends Expiry>(fields: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const field of fields) if (!best || field.expiresAt > best.expiresAt) best = field;
  return best;
}
