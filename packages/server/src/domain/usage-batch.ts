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
  /** Epoch ms: `at + retention(policy)`, computed with the catalog the batch was validated against. */
  readonly keepsUntil: number;
}

export interface UsageDelta {
  subject: string;
  field: string;
  policy: string;
  firstUseAt: number;
  lastUseAt: number;
  count: number;
  /** System of the latest use in this batch. */
  lastSystem: string;
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

export interface AggregatedBatch {
  usages: UsageDelta[];
  fields: FieldCandidate[];
  subjects: SubjectCandidate[];
  links: LinkDelta[];
}

const SEPARATOR = '\u0000';

export function aggregateBatch(events: readonly AcceptedEvent[]): AggregatedBatch {
  const usages = new Map<string, UsageDelta>();
  const fields = new Map<string, FieldCandidate>();
  const subjects = new Map<string, SubjectCandidate>();
  const links = new Map<string, LinkDelta>();
  for (const event of events) {
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
        });
      } else {
        usage.count += 1;
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
          expiresAt: event.keepsUntil,
          policy: event.policy,
          system: event.system,
          lastUseAt: event.at,
        });
      } else {
        candidate.lastUseAt = Math.max(candidate.lastUseAt, event.at);
        if (event.keepsUntil > candidate.expiresAt) {
          candidate.expiresAt = event.keepsUntil;
          candidate.policy = event.policy;
          candidate.system = event.system;
        }
      }

      const subject = subjects.get(event.subject);
      if (!subject || event.keepsUntil > subject.expiresAt) {
        subjects.set(event.subject, {
          subject: event.subject,
          expiresAt: event.keepsUntil,
          field,
          policy: event.policy,
          system: event.system,
        });
      }
    }
  }
  return {
    usages: sortedValues(usages),
    fields: sortedValues(fields),
    subjects: sortedValues(subjects),
    links: sortedValues(links),
  };
}

function sortedValues<T>(map: Map<string, T>): T[] {
  return [...map.keys()].sort().map((key) => map.get(key) as T);
}
