import { fieldExpiry, subjectExpiry, type RetentionEnd } from '../domain/expiry.js';
import type { Repository, SubjectField } from '../store/repository.js';

export interface RecomputeSummary {
  /** Subject-fields with at least one use under the policy. */
  usingPolicy: number;
  changed: number;
  earlier: number;
  later: number;
  earliestNewExpiry: number | undefined;
  latestNewExpiry: number | undefined;
}

const CHUNK = 500;

/**
 * Recomputes the expiry of every subject-field that uses `policy`, with `retentionEnd` giving the
 * (possibly new) retention of every policy. With `write`, stores the new field and subject
 * expiries; without, only counts what would move (the preview). Walks the usages in key order,
 * a chunk at a time, so memory stays bounded however many subjects there are.
 */
export async function recomputePolicyExpiries(
  repository: Repository,
  policy: string,
  retentionEnd: RetentionEnd,
  write: boolean,
): Promise<RecomputeSummary> {
  const summary: RecomputeSummary = {
    usingPolicy: 0,
    changed: 0,
    earlier: 0,
    later: 0,
    earliestNewExpiry: undefined,
    latestNewExpiry: undefined,
  };
  let after: SubjectField | undefined;
  for (;;) {
    const pairs = await repository.pairsUsingPolicy(policy, after, CHUNK);
    if (pairs.length === 0) break;
    after = pairs[pairs.length - 1];
    summary.usingPolicy += pairs.length;

    const subjects = [...new Set(pairs.map((pair) => pair.subject))];
    const [usages, fieldRows] = await Promise.all([
      repository.usagesOfSubjects(subjects),
      repository.fieldExpiriesOfSubjects(subjects),
    ]);
    const usesByPair = groupBy(usages, (usage) => `${usage.subject}\u0000${usage.field}`);
    const rowsByPair = new Map(fieldRows.map((row) => [`${row.subject}\u0000${row.field}`, row]));
    const touchedSubjects = new Set<string>();

    for (const pair of pairs) {
      const key = `${pair.subject}\u0000${pair.field}`;
      const row = rowsByPair.get(key);
      const uses = (usesByPair.get(key) ?? []).map((u) => ({
        policy: u.policy,
        lastUseAt: u.last_use_at,
        lastSystem: u.last_system,
      }));
      const next = fieldExpiry(uses, retentionEnd);
      if (!row || !next) continue;
      if (next.expiresAt !== row.expires_at) {
        summary.changed += 1;
        if (next.expiresAt < row.expires_at) summary.earlier += 1;
        else summary.later += 1;
        summary.earliestNewExpiry = Math.min(summary.earliestNewExpiry ?? Infinity, next.expiresAt);
        summary.latestNewExpiry = Math.max(summary.latestNewExpiry ?? -Infinity, next.expiresAt);
      }
      if (
        write &&
        (next.expiresAt !== row.expires_at || next.policy !== row.policy || next.system !== row.system)
      ) {
        Object.assign(row, { expires_at: next.expiresAt, policy: next.policy, system: next.system });
        await repository.updateFieldExpiry(row);
        touchedSubjects.add(pair.subject);
      }
    }

    if (write) {
      const rowsBySubject = groupBy(fieldRows, (row) => row.subject);
      for (const subject of touchedSubjects) {
        const rows = (rowsBySubject.get(subject) ?? []).map((row) => ({ ...row, expiresAt: row.expires_at }));
        const decider = subjectExpiry(rows);
        if (decider) {
          await repository.updateSubjectExpiry({
            subject,
            expires_at: decider.expires_at,
            field: decider.field,
            policy: decider.policy,
            system: decider.system,
          });
        }
      }
    }
  }
  return summary;
}

// Map.groupBy arrives in Node 21; Lethe supports Node 20.
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
