import type { SubjectField } from '../retention-queries.js';

/**
 * The subject-fields a fold touched under policies that do not age from the last use. For those
 * the fold's rule — keep the greater of the stored expiry and the new use's — is not the expiry:
 * a late, older use moves a `first-use` expiry earlier, and an `event:` expiry depends on the
 * subject's events, not on the use. The fold recomputes them exactly from their usages.
 */
export function agedPairs(
  usages: Iterable<{ subject: string; field: string; policy: string }>,
  aged: ReadonlySet<string>,
): SubjectField[] {
  const pairs = new Map<string, SubjectField>();
  for (const usage of usages) {
    if (!aged.has(usage.policy)) continue;
    pairs.set(`${usage.subject}\u0000${usage.field}`, { subject: usage.subject, field: usage.field });
  }
  return [...pairs.values()];
}
