import type { RecomputeResult } from '@lethe/api';
import { isConsentedUse, NO_CONSENT, type ConsentWindow } from '../consent/consent.js';
import { fieldExpiry, subjectExpiry, type Expiry, type RetentionEnd } from './expiry.js';
import { LAST_USE, type Aging } from './aging/aging.js';
import { keepDecision } from './aging/aged-refresh.js';
import { groupBy } from '../lib/group-by.js';
import { toIso } from '../lib/time.js';
import type { SubjectField } from './retention-queries.js';
import type { Repository } from '../store/repository.js';
import type { FieldExpiryRow, UsageRow } from './retention-tables.js';

export interface RecomputeSummary {
  /** Subject-fields with at least one use under the policy (or of the subject). */
  usingPolicy: number;
  changed: number;
  earlier: number;
  later: number;
  earliestNewExpiry: number | undefined;
  latestNewExpiry: number | undefined;
}

/** What the expiry rule needs to know about policies (a catalog view, possibly with a change applied). */
export interface ExpiryRules {
  readonly retentionEnd: RetentionEnd;
  /** The consent purpose of a consent-based policy; undefined for other legal bases. */
  readonly consentPurpose: (policy: string) => string | undefined;
  /** Each policy's aging strategy; every policy ages from the last use when left out. */
  readonly agingOf?: (policy: string) => Aging;
}

const CHUNK = 500;

/**
 * What a preview looks at beyond the summary: which subject-fields it counts (the principal's
 * scope; every one when left out) and each counted field's expiry before and after the change.
 */
export interface PreviewLens {
  readonly include?: (pair: SubjectField) => boolean;
  readonly observe?: (before: FieldExpiryRow, after: Expiry) => void;
}

/**
 * Recomputes the expiry of every subject-field that uses `policy`, with `rules` giving the
 * (possibly new) retention and legal basis of every policy and the subjects' consent as stored.
 * With `write`, stores the new field and subject expiries; without, only counts what would move
 * (the preview). Walks the usages in key order, a chunk at a time, so memory stays bounded however
 * many subjects there are.
 */
export async function recomputePolicyExpiries(
  repository: Repository,
  policy: string,
  rules: ExpiryRules,
  write: boolean,
  lens: PreviewLens = {},
): Promise<RecomputeSummary> {
  const summary = emptySummary();
  let after: SubjectField | undefined;
  for (;;) {
    const step = await recomputePolicyChunk(
      repository,
      { policy, rules, after, limit: CHUNK, write, lens },
      summary,
    );
    if (step.last === undefined) break;
    after = step.last;
  }
  return summary;
}

/**
 * One chunk of `recomputePolicyExpiries`: the next `limit` subject-fields using the policy after
 * `after` (key order), added to `summary`. `last` is where the next chunk starts (undefined when
 * there was nothing left); `finished` when this chunk reached the end.
 */
export async function recomputePolicyChunk(
  repository: Repository,
  chunk: {
    policy: string;
    rules: ExpiryRules;
    after: SubjectField | undefined;
    limit: number;
    write: boolean;
    lens?: PreviewLens;
  },
  summary: RecomputeSummary,
): Promise<{ last: SubjectField | undefined; finished: boolean }> {
  const pairs = await repository.retention.pairsUsingPolicy(chunk.policy, chunk.after, chunk.limit);
  // Each pair's expiry is computed from its own subject's usages, so leaving some out changes
  // nothing for the rest; the chunk still advances past all of them.
  const include = chunk.lens?.include;
  const counted = include ? pairs.filter(include) : pairs;
  if (counted.length > 0) {
    await recomputeChunk(
      repository,
      counted,
      chunk.rules,
      { write: chunk.write, countConsentedUses: false, observe: chunk.lens?.observe },
      summary,
    );
  }
  const last = pairs[pairs.length - 1];
  return {
    last: last && { subject: last.subject, field: last.field },
    finished: pairs.length < chunk.limit,
  };
}

/**
 * Recomputes the given subject-fields exactly from their usages, in the caller's transaction:
 * after a subject's event arrived, and after a fold of uses under policies that do not age from
 * the last use (the fold's "keep the greater" rule cannot lower an expiry: docs/retention.md).
 */
export async function refreshSubjectFields(
  repository: Repository,
  pairs: readonly SubjectField[],
  rules: ExpiryRules,
): Promise<RecomputeSummary> {
  const summary = emptySummary();
  for (let start = 0; start < pairs.length; start += CHUNK) {
    await recomputeChunk(
      repository,
      pairs.slice(start, start + CHUNK),
      rules,
      { write: true, countConsentedUses: false },
      summary,
    );
  }
  return summary;
}

/**
 * After a change of consent: recomputes every field of the subjects, in the caller's transaction.
 * A latest use that the new state shows was made while consent stood (consent recorded after the
 * use, dated before it) now counts as consented.
 */
export async function recomputeSubjectExpiries(
  repository: Repository,
  subjects: readonly string[],
  rules: ExpiryRules,
): Promise<RecomputeSummary> {
  const summary = emptySummary();
  for (let start = 0; start < subjects.length; start += CHUNK) {
    const chunk = subjects.slice(start, start + CHUNK);
    const rows = await repository.retention.fieldExpiriesOfSubjects(chunk);
    await recomputeChunk(repository, rows, rules, { write: true, countConsentedUses: true }, summary);
  }
  return summary;
}

async function recomputeChunk(
  repository: Repository,
  pairs: readonly SubjectField[],
  rules: ExpiryRules,
  options: { write: boolean; countConsentedUses: boolean; observe?: PreviewLens['observe'] },
  summary: RecomputeSummary,
): Promise<void> {
  const write = options.write;
  summary.usingPolicy += pairs.length;
  const subjects = [...new Set(pairs.map((pair) => pair.subject))];
  const agingOf = rules.agingOf ?? (() => LAST_USE);
  const [usages, fieldRows, states, events] = await Promise.all([
    repository.retention.usagesOfSubjects(subjects),
    repository.retention.fieldExpiriesOfSubjects(subjects),
    repository.consent.statesOfSubjects(subjects),
    repository.subjectEvents.firstOccurrences(subjects),
  ]);
  const windows = new Map(
    states.map((state) => [
      `${state.subject}\u0000${state.purpose}`,
      { grantedAt: state.granted_at, withdrawnAt: state.withdrawn_at } satisfies ConsentWindow,
    ]),
  );
  const windowOf = (subject: string, policy: string): ConsentWindow | undefined => {
    const purpose = rules.consentPurpose(policy);
    return purpose === undefined ? undefined : (windows.get(`${subject}\u0000${purpose}`) ?? NO_CONSENT);
  };
  if (options.countConsentedUses) {
    for (const usage of usages) {
      const window = windowOf(usage.subject, usage.policy);
      if (window && becameConsented(usage, window)) {
        usage.last_consented_use_at = usage.last_use_at;
        await repository.retention.updateLastConsentedUse(usage);
      } else if (window && countedAfterWithdrawal(usage, window)) {
        // Every use from the withdrawal on is a use without consent, and the latest use is one
        // of them: it alone decides (it is later than the withdrawal), so no earlier consented
        // use needs to be known.
        usage.last_consented_use_at = null;
        await repository.retention.updateLastConsentedUse(usage);
      }
    }
  }
  const usesByPair = groupBy(usages, (usage) => `${usage.subject}\u0000${usage.field}`);
  const rowsByPair = new Map(fieldRows.map((row) => [`${row.subject}\u0000${row.field}`, row]));
  const touchedSubjects = new Set<string>();

  for (const pair of pairs) {
    const key = `${pair.subject}\u0000${pair.field}`;
    const row = rowsByPair.get(key);
    const uses = (usesByPair.get(key) ?? []).map((u) => ({
      policy: u.policy,
      firstUseAt: u.first_use_at,
      lastUseAt: u.last_use_at,
      lastSystem: u.last_system,
      lastConsentedUseAt: u.last_consented_use_at,
    }));
    const subjectEvents = events.get(pair.subject);
    const computed = fieldExpiry(uses, rules.retentionEnd, (policy) => windowOf(pair.subject, policy), {
      agingOf,
      eventAt: (name) => subjectEvents?.get(name),
    });
    if (!row || !computed) continue;
    const next = keepDecision(row, computed);
    options.observe?.(row, next);
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
      await repository.retention.updateFieldExpiry(row);
      touchedSubjects.add(pair.subject);
    }
  }

  if (write) {
    const rowsBySubject = groupBy(fieldRows, (row) => row.subject);
    for (const subject of touchedSubjects) {
      const rows = (rowsBySubject.get(subject) ?? []).map((row) => ({ ...row, expiresAt: row.expires_at }));
      const decider = subjectExpiry(rows);
      if (decider) {
        await repository.retention.updateSubjectExpiry({
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

/** The usage's latest use lies in the (new) consent window but was not counted as consented. */
function becameConsented(usage: UsageRow, window: ConsentWindow): boolean {
  return (
    isConsentedUse(window, usage.last_use_at) &&
    (usage.last_consented_use_at === null || usage.last_consented_use_at < usage.last_use_at)
  );
}

/**
 * A use counted as consented when it was ingested lies at or after a withdrawal recorded since
 * (a withdrawal dated in the past): it was not consented after all.
 */
function countedAfterWithdrawal(usage: UsageRow, window: ConsentWindow): boolean {
  return (
    window.withdrawnAt !== null &&
    usage.last_consented_use_at !== null &&
    usage.last_consented_use_at >= window.withdrawnAt
  );
}

export function emptySummary(): RecomputeSummary {
  return {
    usingPolicy: 0,
    changed: 0,
    earlier: 0,
    later: 0,
    earliestNewExpiry: undefined,
    latestNewExpiry: undefined,
  };
}

/** A summary as the API says it: the preview of a change and a recompute job's result. */
export function summaryInWords(summary: RecomputeSummary): RecomputeResult {
  return {
    subjectFieldsUsingPolicy: summary.usingPolicy,
    subjectFieldsChanged: summary.changed,
    subjectFieldsEarlier: summary.earlier,
    subjectFieldsLater: summary.later,
    ...(summary.earliestNewExpiry !== undefined
      ? { earliestNewExpiry: toIso(summary.earliestNewExpiry) }
      : {}),
    ...(summary.latestNewExpiry !== undefined ? { latestNewExpiry: toIso(summary.latestNewExpiry) } : {}),
  };
}
