import { isConsentedUse, NO_CONSENT, type ConsentWindow } from '../consent/consent.js';
import { useKeepsUntil } from './expiry.js';

/**
 * Aggregation of one ingest batch, before it touches the store: many events about the same
 * (subject, field, policy) become one row change, so the store writes each key once per batch.
 * Pure and deterministic; the output is sorted by key so that concurrent batches lock rows in
 * the same order (no deadlocks on PostgreSQL).
 */

export interface AcceptedEvent {
  readonly id: string | undefined;
  readonly subject: string;
  readonly system: string;
  readonly policy: string;
  readonly fields: readonly string[];
  /** Epoch ms of the use. */
  readonly at: number;
  /**
   * Epoch ms: `at + retention(policy)`, computed with the catalog the batch was validated against.
   * Under a consent-based policy the store cuts it with the subject's consent (`useKeepsUntil`).
   */
  readonly keepsUntil: number;
  /** The purpose whose consent the policy needs, when its legal basis is consent. */
  readonly consentPurpose?: string;
}

/** An accepted event as the aggregation needs it: its id served the dedupe and is gone. */
export type FoldedEvent = Omit<AcceptedEvent, 'id'>;

/** The consent window of (subject, purpose), as the store read it inside the ingest transaction. */
export type ConsentLookup = (subject: string, purpose: string) => ConsentWindow;

export interface UsageDelta {
  subject: string;
  field: string;
  policy: string;
  firstUseAt: number;
  lastUseAt: number;
  count: number;
  /** System of the latest use in this batch. */
  lastSystem: string;
  /** Latest use in this batch made while consent stood; null when none (or not consent-based). */
  lastConsentedUseAt: number | null;
}

/** A candidate expiry for (subject, field): the store keeps the later of it and what it holds. */
export interface FieldCandidate {
  subject: string;
  field: string;
  expiresAt: number;
  policy: string;
  system: string;
  lastUseAt: number;
}

export interface SubjectCandidate {
  subject: string;
  expiresAt: number;
  field: string;
  policy: string;
  system: string;
}

/** Per (system, field, policy): which system used which field under which policy (the data map's view). */
export interface LinkDelta {
  system: string;
  field: string;
  policy: string;
  firstUseAt: number;
  lastUseAt: number;
  count: number;
}

/** Per (subject, policy, system): uses under a consent-based policy without consent. */
export interface ConsentViolationDelta {
  subject: string;
  policy: string;
  system: string;
  purpose: string;
  firstAt: number;
  lastAt: number;
  count: number;
}

export interface AggregatedBatch {
  usages: UsageDelta[];
  violations: ConsentViolationDelta[];
  fields: FieldCandidate[];
  subjects: SubjectCandidate[];
  links: LinkDelta[];
}

const SEPARATOR = '\u0000';

/**
 * The keys the store must look consent up for: distinct (subject, purpose) pairs of the events
 * under consent-based policies, sorted (a stable lock order on PostgreSQL).
 */
export function consentKeys(events: readonly FoldedEvent[]): { subject: string; purpose: string }[] {
  const keys = new Map<string, { subject: string; purpose: string }>();
  for (const event of events) {
    if (event.consentPurpose === undefined) continue;
    keys.set(event.subject + SEPARATOR + event.consentPurpose, {
      subject: event.subject,
      purpose: event.consentPurpose,
    });
  }
  return sortedValues(keys);
}

export function consentKey(subject: string, purpose: string): string {
  return subject + SEPARATOR + purpose;
}

/**
 * Folds the events into row changes. `consentOf` is needed when some event carries a
 * `consentPurpose`: such an event is consented or a violation by the window it returns.
 */
export function aggregateBatch(
  events: readonly FoldedEvent[],
  consentOf: ConsentLookup = () => NO_CONSENT,
): AggregatedBatch {
  const usages = new Map<string, UsageDelta>();
  const violations = new Map<string, ConsentViolationDelta>();
  const fields = new Map<string, FieldCandidate>();
  const subjects = new Map<string, SubjectCandidate>();
  const links = new Map<string, LinkDelta>();
  for (const event of events) {
    const purpose = event.consentPurpose;
    const window = purpose === undefined ? undefined : consentOf(event.subject, purpose);
    const consented = window === undefined || isConsentedUse(window, event.at);
    const keepsUntil = useKeepsUntil(event.at, event.keepsUntil, window);
    if (purpose !== undefined && !consented) {
      const violationKey = event.subject + SEPARATOR + event.policy + SEPARATOR + event.system;
      const violation = violations.get(violationKey);
      if (!violation) {
        violations.set(violationKey, {
          subject: event.subject,
          policy: event.policy,
          system: event.system,
          purpose,
          firstAt: event.at,
          lastAt: event.at,
          count: 1,
        });
      } else {
        violation.firstAt = Math.min(violation.firstAt, event.at);
        violation.lastAt = Math.max(violation.lastAt, event.at);
        violation.count += 1;
      }
    }
    const consentedUseAt = purpose !== undefined && consented ? event.at : null;
    for (const field of event.fields) {
      const linkKey = event.system + SEPARATOR + field + SEPARATOR + event.policy;
      const link = links.get(linkKey);
      if (!link) {
        links.set(linkKey, {
          system: event.system,
          field,
          policy: event.policy,
          firstUseAt: event.at,
          lastUseAt: event.at,
          count: 1,
        });
      } else {
        link.firstUseAt = Math.min(link.firstUseAt, event.at);
        link.lastUseAt = Math.max(link.lastUseAt, event.at);
        link.count += 1;
      }
      const usageKey = event.subject + SEPARATOR + field + SEPARATOR + event.policy;
      const usage = usages.get(usageKey);
      if (!usage) {
        usages.set(usageKey, {
          subject: event.subject,
          field,
          policy: event.policy,
          firstUseAt: event.at,
          lastUseAt: event.at,
          count: 1,
          lastSystem: event.system,
          lastConsentedUseAt: consentedUseAt,
        });
      } else {
        usage.count += 1;
        if (consentedUseAt !== null) {
          usage.lastConsentedUseAt = Math.max(usage.lastConsentedUseAt ?? -Infinity, consentedUseAt);
        }
        usage.firstUseAt = Math.min(usage.firstUseAt, event.at);
        if (event.at >= usage.lastUseAt) {
          usage.lastUseAt = event.at;
          usage.lastSystem = event.system;
        }
      }

      const fieldKey = event.subject + SEPARATOR + field;
      const candidate = fields.get(fieldKey);
      if (!candidate) {
        fields.set(fieldKey, {
          subject: event.subject,
          field,
          expiresAt: keepsUntil,
          policy: event.policy,
          system: event.system,
          lastUseAt: event.at,
        });
      } else {
        candidate.lastUseAt = Math.max(candidate.lastUseAt, event.at);
        if (keepsUntil > candidate.expiresAt) {
          candidate.expiresAt = keepsUntil;
          candidate.policy = event.policy;
          candidate.system = event.system;
        }
      }

      const subject = subjects.get(event.subject);
      if (!subject || keepsUntil > subject.expiresAt) {
        subjects.set(event.subject, {
          subject: event.subject,
          expiresAt: keepsUntil,
          field,
          policy: event.policy,
          system: event.system,
        });
      }
    }
  }
  return {
    usages: sortedValues(usages),
    violations: sortedValues(violations),
    fields: sortedValues(fields),
    subjects: sortedValues(subjects),
    links: sortedValues(links),
  };
}

function sortedValues<T>(map: Map<string, T>): T[] {
  return [...map.keys()].sort().map((key) => map.get(key) as T);
}
