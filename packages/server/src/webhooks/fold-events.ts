import type { WebhookEventInput } from './webhook-outbox.js';

/** A use without consent as the fold aggregates it (one per subject, policy and system). */
export interface FoldViolation {
  readonly subject: string;
  readonly system: string;
  readonly policy: string;
  readonly count: number;
}

/**
 * The webhook events of one fold: per system, the uses it made without consent
 * (`consent.violation`) and the erased fields it used again (`reappearance.detected`). Counts and
 * links only, never subject ids: the receiver reads the lists with a token of its own, which shows
 * it what its role may see. Written by the fold in its own transaction, so a fold that commits
 * announces what it found, and one that rolls back announces nothing.
 */
export function foldWebhookEvents(
  violations: Iterable<FoldViolation>,
  reappearedBySystem: ReadonlyMap<string, number>,
): WebhookEventInput[] {
  const bySystem = new Map<string, { uses: number; subjects: Set<string>; policies: Set<string> }>();
  for (const violation of violations) {
    const entry = bySystem.get(violation.system) ?? {
      uses: 0,
      subjects: new Set<string>(),
      policies: new Set<string>(),
    };
    entry.uses += violation.count;
    // A subject that broke two policies is one subject: the count is of distinct subjects.
    entry.subjects.add(violation.subject);
    entry.policies.add(violation.policy);
    bySystem.set(violation.system, entry);
  }
  const events: WebhookEventInput[] = [];
  for (const [system, { uses, subjects, policies }] of bySystem) {
    events.push({
      type: 'consent.violation',
      system,
      data: {
        system,
        uses,
        subjects: subjects.size,
        policies: [...policies].sort(),
        violations: '/v1/consent/violations',
      },
    });
  }
  for (const [system, fields] of reappearedBySystem) {
    events.push({
      type: 'reappearance.detected',
      system,
      data: { system, fields, reappearances: '/v1/reappearances' },
    });
  }
  return events;
}

/**
 * Counts per key: the systems of the fields that reappeared in a fold. A reappearance is
 * attributed to the field's `system` column once the fold has written it (the system whose use
 * gave the field its latest expiry), the `system` the reappearances list (`/v1/reappearances`)
 * shows, on both backends.
 */
export function countBy(keys: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}
