import { isConsentedUse, NO_CONSENT, type ConsentWindow } from '../../consent/consent.js';
import { useKeepsUntil } from '../expiry.js';
import type {
  AggregatedBatch,
  ConsentViolationDelta,
  FieldCandidate,
  LinkDelta,
  SubjectCandidate,
  UsageDelta,
} from '../usage-batch.js';
import type { InternedJournal } from './journal-codec.js';

/** The consent window of (subject, purpose) by interned ids (`consentPairs` lists which). */
export type InternedConsentLookup = (subject: number, purpose: number) => ConsentWindow;

/**
 * `aggregateBatch` over interned journal columns, for the fold: the same row changes, event by
 * event in the same order (so ties resolve alike), but keyed by integers packed from the interned
 * ids instead of joined strings, and unsorted (a single SQLite writer needs no lock order).
 * `journal-aggregate.test.ts` checks it against `aggregateBatch` by property.
 */
export function aggregateInterned(
  journal: InternedJournal,
  consentOf: InternedConsentLookup = () => NO_CONSENT,
): AggregatedBatch {
  const width = Math.max(1, journal.names.length);
  if (Math.max(journal.subjects.length, width) * width * width >= Number.MAX_SAFE_INTEGER) {
    throw new Error(`a fold of ${journal.subjects.length} subjects and ${width} names is too large to key`);
  }
  const { subjects: subjectNames, names } = journal;
  const usages = new Map<number, UsageDelta>();
  const violations = new Map<number, ConsentViolationDelta>();
  const fields = new Map<number, FieldCandidate>();
  const subjects = new Map<number, SubjectCandidate>();
  const links = new Map<number, LinkDelta>();
  let fieldStart = 0;
  for (let i = 0; i < journal.length; i += 1) {
    const at = journal.at[i] as number;
    const subject = journal.subject[i] as number;
    const system = journal.system[i] as number;
    const policy = journal.policy[i] as number;
    const purpose = journal.purpose[i] as number;
    const fieldEnd = journal.fieldEnd[i] as number;
    const window = purpose === -1 ? undefined : consentOf(subject, purpose);
    const consented = window === undefined || isConsentedUse(window, at);
    const keepsUntil = useKeepsUntil(at, journal.keepsUntil[i] as number, window);
    if (purpose !== -1 && !consented) {
      const key = (subject * width + policy) * width + system;
      countViolation(violations, key, at, () => ({
        subject: subjectNames[subject] as string,
        policy: names[policy] as string,
        system: names[system] as string,
        purpose: names[purpose] as string,
      }));
    }
    const consentedUseAt = purpose !== -1 && consented ? at : null;
    for (let f = fieldStart; f < fieldEnd; f += 1) {
      const field = journal.fields[f] as number;
      countLink(links, (system * width + field) * width + policy, at, () => ({
        system: names[system] as string,
        field: names[field] as string,
        policy: names[policy] as string,
      }));
      const fieldKey = subject * width + field;
      const usageKey = fieldKey * width + policy;
      const usage = usages.get(usageKey);
      if (!usage) {
        usages.set(usageKey, {
          subject: subjectNames[subject] as string,
          field: names[field] as string,
          policy: names[policy] as string,
          firstUseAt: at,
          lastUseAt: at,
          count: 1,
          lastSystem: names[system] as string,
          lastConsentedUseAt: consentedUseAt,
        });
      } else {
        usage.count += 1;
        if (consentedUseAt !== null) {
          usage.lastConsentedUseAt = Math.max(usage.lastConsentedUseAt ?? -Infinity, consentedUseAt);
        }
        usage.firstUseAt = Math.min(usage.firstUseAt, at);
        if (at >= usage.lastUseAt) {
          usage.lastUseAt = at;
          usage.lastSystem = names[system] as string;
        }
      }
      const candidate = fields.get(fieldKey);
      if (!candidate) {
        fields.set(fieldKey, {
          subject: subjectNames[subject] as string,
          field: names[field] as string,
          expiresAt: keepsUntil,
          policy: names[policy] as string,
          system: names[system] as string,
          lastUseAt: at,
        });
      } else {
        candidate.lastUseAt = Math.max(candidate.lastUseAt, at);
        if (keepsUntil > candidate.expiresAt) {
          candidate.expiresAt = keepsUntil;
          candidate.policy = names[policy] as string;
          candidate.system = names[system] as string;
        }
      }
      const current = subjects.get(subject);
      if (!current || keepsUntil > current.expiresAt) {
        subjects.set(subject, {
          subject: subjectNames[subject] as string,
          expiresAt: keepsUntil,
          field: names[field] as string,
          policy: names[policy] as string,
          system: names[system] as string,
        });
      }
    }
    fieldStart = fieldEnd;
  }
  return {
    usages: [...usages.values()],
    violations: [...violations.values()],
    fields: [...fields.values()],
    subjects: [...subjects.values()],
    links: [...links.values()],
  };
}

function countViolation(
  violations: Map<number, ConsentViolationDelta>,
  key: number,
  at: number,
  names: () => Pick<ConsentViolationDelta, 'subject' | 'policy' | 'system' | 'purpose'>,
): void {
  const violation = violations.get(key);
  if (!violation) violations.set(key, { ...names(), firstAt: at, lastAt: at, count: 1 });
  else {
    violation.firstAt = Math.min(violation.firstAt, at);
    violation.lastAt = Math.max(violation.lastAt, at);
    violation.count += 1;
  }
}

function countLink(
  links: Map<number, LinkDelta>,
  key: number,
  at: number,
  names: () => Pick<LinkDelta, 'system' | 'field' | 'policy'>,
): void {
  const link = links.get(key);
  if (!link) links.set(key, { ...names(), firstUseAt: at, lastUseAt: at, count: 1 });
  else {
    link.firstUseAt = Math.min(link.firstUseAt, at);
    link.lastUseAt = Math.max(link.lastUseAt, at);
    link.count += 1;
  }
}

/** The distinct (subject, purpose) pairs of the events under consent-based policies. */
export function consentPairs(journal: InternedJournal): { subject: number; purpose: number }[] {
  const width = Math.max(1, journal.names.length);
  const pairs = new Map<number, { subject: number; purpose: number }>();
  for (let i = 0; i < journal.length; i += 1) {
    const purpose = journal.purpose[i] as number;
    if (purpose === -1) continue;
    const subject = journal.subject[i] as number;
    pairs.set(subject * width + purpose, { subject, purpose });
  }
  return [...pairs.values()];
}
