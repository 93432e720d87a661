import { NO_CONSENT, type ConsentWindow } from '../../consent/consent.js';
import { addDuration, parseDuration, type Duration } from '../../lib/duration.js';
import { fieldExpiry, type Expiry } from '../expiry.js';
import type { FieldExpiryRow, PolicyRow, UsageRow } from '../retention-tables.js';
import { LAST_USE, parseAging, type Aging } from './aging.js';

/** A (subject, field) the refresh recomputes. */
export interface AgedPair {
  readonly subject: string;
  readonly field: string;
}

/** What the refresh of some subject-fields reads: the catalog's policies and the subjects' rows. */
export interface AgedRefreshInput {
  readonly policies: readonly Pick<PolicyRow, 'name' | 'retention' | 'since' | 'legal_basis' | 'purpose'>[];
  readonly pairs: readonly AgedPair[];
  readonly usages: readonly UsageRow[];
  readonly fieldRows: readonly FieldExpiryRow[];
  readonly consent: readonly {
    subject: string;
    purpose: string;
    granted_at: number | null;
    withdrawn_at: number | null;
  }[];
  /** Per subject, the first occurrence of each event name. */
  readonly events: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** The field rows whose expiry changed (to write) and the subjects whose expiry must follow. */
export interface AgedRefresh {
  readonly fields: readonly (AgedPair & Expiry)[];
  readonly subjects: readonly string[];
}

/**
 * Aging strategies (docs/retention.md, "Aging"): the subject-fields a fold touched under a policy
 * that does not age from the last use, recomputed exactly from their usages with the pure rule.
 * The fold's "keep the greater" rule cannot do it: a late older use moves a `first-use` expiry
 * earlier, and an `event:` expiry depends on the subject's events, not on the use. Pure: the fold
 * of each backend reads the rows and writes the answer in its own transaction.
 */
export function agedRefresh(input: AgedRefreshInput): AgedRefresh {
  const policies = new Map<string, { duration: Duration; aging: Aging; consentPurpose?: string }>();
  for (const row of input.policies) {
    const duration = parseDuration(row.retention);
    if (!duration) throw new Error(`stored policy ${row.name} has an invalid retention ${row.retention}`);
    policies.set(row.name, {
      duration,
      aging: parseAging(row.since) ?? LAST_USE,
      ...(row.legal_basis === 'consent' ? { consentPurpose: row.purpose } : {}),
    });
  }
  const policy = (name: string) => {
    const entry = policies.get(name);
    if (!entry) throw new Error(`usage refers to unknown policy ${name}`);
    return entry;
  };
  const key = (subject: string, field: string) => `${subject}\u0000${field}`;
  const windows = new Map<string, ConsentWindow>(
    input.consent.map((row) => [
      key(row.subject, row.purpose),
      { grantedAt: row.granted_at, withdrawnAt: row.withdrawn_at },
    ]),
  );
  const usesByPair = new Map<string, UsageRow[]>();
  for (const usage of input.usages) {
    const pair = key(usage.subject, usage.field);
    usesByPair.set(pair, [...(usesByPair.get(pair) ?? []), usage]);
  }
  const rows = new Map(input.fieldRows.map((row) => [key(row.subject, row.field), row]));
  const fields: (AgedPair & Expiry)[] = [];
  const subjects = new Set<string>();
  for (const pair of input.pairs) {
    const row = rows.get(key(pair.subject, pair.field));
    const events = input.events.get(pair.subject);
    const computed = fieldExpiry(
      (usesByPair.get(key(pair.subject, pair.field)) ?? []).map((u) => ({
        policy: u.policy,
        firstUseAt: u.first_use_at,
        lastUseAt: u.last_use_at,
        lastSystem: u.last_system,
        lastConsentedUseAt: u.last_consented_use_at,
      })),
      (name, at) => addDuration(at, policy(name).duration),
      (name) => {
        const purpose = policy(name).consentPurpose;
        return purpose === undefined ? undefined : (windows.get(key(pair.subject, purpose)) ?? NO_CONSENT);
      },
      { agingOf: (name) => policy(name).aging, eventAt: (name) => events?.get(name) },
    );
    if (!row || !computed) continue;
    const next = keepDecision(row, computed);
    if (next.expiresAt === row.expires_at && next.policy === row.policy && next.system === row.system)
      continue;
    fields.push({ ...pair, ...next });
    subjects.add(pair.subject);
  }
  return { fields, subjects: [...subjects] };
}

/** The subject-fields of `usages` under the policies in `aged` (the ones a fold refreshes). */
export function agedPairs(
  usages: Iterable<{ subject: string; field: string; policy: string }>,
  aged: ReadonlySet<string>,
): AgedPair[] {
  const pairs = new Map<string, AgedPair>();
  for (const usage of usages) {
    if (!aged.has(usage.policy)) continue;
    pairs.set(`${usage.subject}\u0000${usage.field}`, { subject: usage.subject, field: usage.field });
  }
  return [...pairs.values()];
}

/**
 * Expire now (docs/retention.md): a field a DPO expired keeps the decision's expiry unless the
 * rule now ends it even earlier; a recompute never moves it later.
 */
export function keepDecision(row: FieldExpiryRow, next: Expiry): Expiry {
  if (row.expire_now_at === null || next.expiresAt <= row.expires_at) return next;
  return { expiresAt: row.expires_at, policy: row.policy, system: row.system };
}
