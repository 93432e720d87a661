/** Policies, systems, usage telemetry and the retention it drives: expiries, erasures, reappearances. */
import { Type, type Static } from 'typebox';
import { Day, Id, Instant, Name, QueryInteger, Reason, REASON_MAX_LENGTH, SubjectId } from './common.js';
import { ConsentPurposeState } from './consent.js';
import { LEGAL_BASES } from './choices.js';
import { ExpireNowMark } from './expire-now.js';
import { HoldMark } from './holds.js';
import { PolicyRecompute } from './jobs.js';

const strict = { additionalProperties: false } as const;

// Policies ----------------------------------------------------------------------------------
/** The forms of a policy's `since` (docs/retention.md, "Aging"), as an error names them. */
export const AGING_EXAMPLES = ['last-use', 'first-use', 'event:<name>', 'until:<YYYY-MM-DD>'] as const;

/**
 * What a policy's retention counts from: `last-use` (the default), `first-use`,
 * `event:<name>` (the subject's first event of that name) or `until:<YYYY-MM-DD>` (a fixed day).
 */
export const AgingStrategy = Type.String({
  pattern: '^(last-use|first-use|event:[a-z0-9][a-z0-9._-]{0,63}|until:[0-9]{4}-[0-9]{2}-[0-9]{2})$',
  description: `one of ${AGING_EXAMPLES.join(', ')}`,
});

export const PolicyInput = Type.Object(
  {
    purpose: Type.String({ description: 'dotted purpose key, e.g. marketing.email' }),
    retention: Type.String({ description: 'ISO 8601 duration, e.g. P2Y' }),
    legalBasis: Type.String({ description: `one of ${LEGAL_BASES.join(', ')}` }),
    /** What the retention counts from; `last-use` when left out. */
    since: Type.Optional(AgingStrategy),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    /** Categories of data subjects for the record of processing, e.g. customers, employees. */
    dataSubjects: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }))),
    /** When the privacy team last reviewed this processing. */
    reviewedOn: Type.Optional(Day),
    /**
     * Why the policy changes; kept on the version it creates and in the audit log. Required when a
     * change moves expiries (retention, since or legal basis of an existing policy).
     */
    reason: Type.Optional(Reason),
  },
  strict,
);
export type PolicyInput = Static<typeof PolicyInput>;

export const Policy = Type.Object({
  name: Type.String(),
  purpose: Type.String(),
  retention: Type.String(),
  legalBasis: Type.String(),
  /** What the retention counts from (docs/retention.md, "Aging"). */
  since: Type.String(),
  description: Type.Optional(Type.String()),
  dataSubjects: Type.Optional(Type.Array(Type.String())),
  reviewedOn: Type.Optional(Type.String()),
  version: Type.Integer(),
  status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
  createdAt: Instant,
  updatedAt: Instant,
  retiredAt: Type.Optional(Instant),
  /**
   * The recompute of this policy's expiries that a change of its retention, legal basis or
   * purpose scheduled, while it is queued or running (docs/retention.md, "Retention changes").
   */
  recompute: Type.Optional(PolicyRecompute),
});
export type Policy = Static<typeof Policy>;

export const PolicyVersion = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  purpose: Type.String(),
  retention: Type.String(),
  legalBasis: Type.String(),
  since: Type.String(),
  description: Type.Optional(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
  changedAt: Instant,
  changedBy: Type.String(),
  /** Why this version was made (absent for versions saved before reasons were recorded). */
  reason: Type.Optional(Type.String()),
});
export type PolicyVersion = Static<typeof PolicyVersion>;

/**
 * `DELETE /v1/policies/{name}?reason=`: why the policy is retired, kept on the retired version and
 * in the audit entry. Required like the reason of a retention change; without it the answer is
 * `400 POLICY_CHANGE_REASON_REQUIRED` (optional and possibly empty here only so that a missing, empty
 * or blank reason gets that code alike).
 */
export const RetireQuery = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: REASON_MAX_LENGTH })) },
  strict,
);
export type RetireQuery = Static<typeof RetireQuery>;

/** A change to preview: the retention, and optionally the aging strategy (the current one when left out). */
export const PreviewInput = Type.Object(
  { retention: Type.String(), since: Type.Optional(AgingStrategy) },
  strict,
);
export type PreviewInput = Static<typeof PreviewInput>;

/** One system's share of a previewed change. */
export const PreviewSystem = Type.Object({
  system: Type.String(),
  earlier: Type.Integer(),
  later: Type.Integer(),
  dueAtOnce: Type.Integer(),
});
export type PreviewSystem = Static<typeof PreviewSystem>;

export const RetentionPreview = Type.Object({
  policy: Type.String(),
  currentRetention: Type.String(),
  retention: Type.String(),
  currentSince: Type.String(),
  since: Type.String(),
  /** Subject-fields that hold at least one use under this policy. */
  subjectFieldsUsingPolicy: Type.Integer(),
  /** Subject-fields whose expiry would move. */
  subjectFieldsChanged: Type.Integer(),
  subjectFieldsEarlier: Type.Integer(),
  subjectFieldsLater: Type.Integer(),
  /** Subject-fields whose expiry would stay where it is. */
  subjectFieldsUnchanged: Type.Integer(),
  earliestNewExpiry: Type.Optional(Instant),
  latestNewExpiry: Type.Optional(Instant),
  /**
   * Subject-fields that become due the moment the change is saved: their expiry moves from a later
   * day to today (UTC) or earlier. Held fields are left out and counted in `heldAtOnce`.
   */
  dueAtOnce: Type.Integer(),
  /** Subject-fields that would become due at once but a legal hold keeps. */
  heldAtOnce: Type.Integer(),
  /** Where the moves land, by the system that holds the field: the systems with most moves first (at most 10). */
  systems: Type.Array(PreviewSystem),
});
export type RetentionPreview = Static<typeof RetentionPreview>;

// Systems -----------------------------------------------------------------------------------
export const FieldDeclaration = Type.Object(
  { name: Name, categories: Type.Optional(Type.Array(Type.String())) },
  strict,
);
export const DatasetDeclaration = Type.Object({ name: Name, fields: Type.Array(FieldDeclaration) }, strict);
export type DatasetDeclaration = Static<typeof DatasetDeclaration>;

/** ISO 3166-1 alpha-2 country code, upper case (`DE`, `US`). */
const Country = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2, e.g. DE' });

/** What a system says about where it runs and who runs it; feeds the record of processing. */
const SystemAttributes = {
  team: Type.String({ minLength: 1, maxLength: 128 }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  /** Run by another company (a processor or recipient), e.g. a payment provider. */
  thirdParty: Type.Optional(Type.Boolean()),
  /** Where the data is processed; outside the EEA it is a third-country transfer. */
  country: Type.Optional(Country),
  /** The Art. 46 safeguard of a third-country transfer, e.g. "SCC 2021/914". */
  safeguards: Type.Optional(Type.String({ maxLength: 500 })),
};

export const SystemInput = Type.Object(
  { ...SystemAttributes, datasets: Type.Optional(Type.Array(DatasetDeclaration)) },
  strict,
);
export type SystemInput = Static<typeof SystemInput>;

export const System = Type.Object({
  name: Type.String(),
  ...SystemAttributes,
  datasets: Type.Array(DatasetDeclaration),
  createdAt: Instant,
  updatedAt: Instant,
});
export type System = Static<typeof System>;

// Telemetry ---------------------------------------------------------------------------------
export const UsageEvent = Type.Object(
  {
    id: Type.Optional(Id(128)),
    subject: SubjectId,
    system: Type.String(),
    policy: Type.String(),
    fields: Type.Array(Type.String(), { minItems: 1, maxItems: 256 }),
    at: Instant,
  },
  strict,
);
export type UsageEvent = Static<typeof UsageEvent>;

export const EventBatch = Type.Object({ events: Type.Array(Type.Unknown()) }, strict);

export const EventRejection = Type.Object({
  index: Type.Integer(),
  code: Type.String(),
  message: Type.String(),
});
export type EventRejection = Static<typeof EventRejection>;

export const IngestResult = Type.Object({
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Array(EventRejection),
});
export type IngestResult = Static<typeof IngestResult>;

// Subject events ----------------------------------------------------------------------------
/** Something that happened to a subject, e.g. `account-closed`: an `event:` policy counts from it. */
export const SubjectEvent = Type.Object(
  {
    id: Type.Optional(Id(128)),
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'e.g. account-closed' }),
    at: Instant,
  },
  strict,
);
export type SubjectEvent = Static<typeof SubjectEvent>;

export const SubjectEventBatch = Type.Object({ events: Type.Array(Type.Unknown()) }, strict);

/** What `POST /v1/subjects/{id}/events` did: as usage ingest, plus the fields it recomputed. */
export const SubjectEventResult = Type.Object({
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Array(EventRejection),
  /** Subject-fields whose expiry moved because an event arrived. */
  fieldsChanged: Type.Integer(),
});
export type SubjectEventResult = Static<typeof SubjectEventResult>;

/**
 * `POST /v1/subjects/{id}/events/delete`: an event recorded by mistake (the wrong subject, the
 * wrong day) taken back; without `at`, every occurrence of the name.
 */
export const SubjectEventDeletion = Type.Object(
  {
    name: SubjectEvent.properties.name,
    at: Type.Optional(Instant),
    reason: Type.String({ minLength: 1, maxLength: 2_000, description: 'why the event is taken back' }),
  },
  strict,
);
export type SubjectEventDeletion = Static<typeof SubjectEventDeletion>;

export const SubjectEventDeletionResult = Type.Object({
  /** Occurrences removed. */
  deleted: Type.Integer(),
  /** Subject-fields whose expiry moved (fields waiting again for the event, or counting from a later one). */
  fieldsChanged: Type.Integer(),
});
export type SubjectEventDeletionResult = Static<typeof SubjectEventDeletionResult>;

// Retention ---------------------------------------------------------------------------------
export const Use = Type.Object({
  policy: Type.String(),
  system: Type.String(),
  firstUseAt: Instant,
  lastUseAt: Instant,
  count: Type.Integer(),
  /** When this use alone would let the field be kept until (cut by consent, docs/consent.md). */
  keepsUntil: Instant,
  /** For a consent-based policy: the purpose whose consent it needs. */
  consentPurpose: Type.Optional(Type.String()),
  /** For a consent-based policy: the latest use made while consent stood. */
  lastConsentedUseAt: Type.Optional(Instant),
  /** The policy counts from the subject's event of this name, which has not arrived yet: kept until it does. */
  waitingFor: Type.Optional(Type.String()),
});
export type Use = Static<typeof Use>;

export const SubjectField = Type.Object({
  field: Type.String(),
  expiresAt: Instant,
  policy: Type.String(),
  system: Type.String(),
  lastUseAt: Instant,
  erasedAt: Type.Optional(Instant),
  reappearedAt: Type.Optional(Instant),
  /** A legal hold stops this field's deletion (the first hold that covers it, by name). */
  hold: Type.Optional(HoldMark),
  /** A DPO expired this field at once (docs/retention.md "Expire now"): when, why and who. */
  expireNow: Type.Optional(ExpireNowMark),
  /**
   * The use that keeps this field waits for the subject's event of this name (an `event:` policy,
   * docs/retention.md "Aging"): the field is kept until it arrives; `expiresAt` is then a
   * placeholder (9999-12-31) and the field is never due.
   */
  waitingFor: Type.Optional(Type.String()),
  uses: Type.Array(Use),
});
export type SubjectField = Static<typeof SubjectField>;

export const SubjectRetention = Type.Object({
  subject: Type.String(),
  expiresAt: Instant,
  /** The field that keeps the subject longest, and why. */
  decidedBy: Type.Object({ field: Type.String(), policy: Type.String(), system: Type.String() }),
  fields: Type.Array(SubjectField),
  /** The subject's events (`POST /v1/subjects/{id}/events`), first occurrence per name. */
  events: Type.Optional(Type.Record(Type.String(), Instant)),
  /** The subject's consent per purpose (docs/consent.md); empty when none was recorded. */
  consent: Type.Record(Type.String(), ConsentPurposeState),
});
export type SubjectRetention = Static<typeof SubjectRetention>;

export const ExpiryLevel = Type.Union([Type.Literal('field'), Type.Literal('subject')]);
export type ExpiryLevel = Static<typeof ExpiryLevel>;

export const ExpiryQuery = Type.Object(
  {
    day: Type.Optional(Day),
    from: Type.Optional(Day),
    to: Type.Optional(Day),
    system: Type.Optional(Type.String()),
    dataset: Type.Optional(Type.String()),
    field: Type.Optional(Type.String()),
    level: Type.Optional(ExpiryLevel),
    limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 10_000 })),
    cursor: Type.Optional(Type.String()),
  },
  strict,
);
export type ExpiryQuery = Static<typeof ExpiryQuery>;

/** `GET /v1/expiries/due`: what must be deleted now, over every past day; field level only. */
export const DueQuery = Type.Object(
  {
    system: Type.Optional(Type.String()),
    dataset: Type.Optional(Type.String()),
    field: Type.Optional(Type.String()),
    limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 10_000 })),
    cursor: Type.Optional(Type.String()),
  },
  strict,
);
export type DueQuery = Static<typeof DueQuery>;

/**
 * Where a feed row stands now: `due` (its expiry has passed: delete it), `upcoming` (advisory:
 * it will be due on its day) or `held` (a legal hold stops its deletion; `hold` names it).
 */
export const ExpiryStatus = Type.Union([Type.Literal('due'), Type.Literal('upcoming'), Type.Literal('held')]);
export type ExpiryStatus = Static<typeof ExpiryStatus>;

export const ExpiryItem = Type.Object({
  subject: Type.String(),
  field: Type.String(),
  expiresAt: Instant,
  policy: Type.String(),
  system: Type.String(),
  status: ExpiryStatus,
  /** The legal hold that stops the deletion (its name), when `status` is `held`. */
  hold: Type.Optional(Type.String()),
});
export type ExpiryItem = Static<typeof ExpiryItem>;

export const ExpiryPage = Type.Object({ items: Type.Array(ExpiryItem), next: Type.Optional(Type.String()) });
export type ExpiryPage = Static<typeof ExpiryPage>;

export const ErasureInput = Type.Object(
  {
    system: Type.String(),
    fields: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    at: Type.Optional(Instant),
  },
  strict,
);
export type ErasureInput = Static<typeof ErasureInput>;

export const ErasureResult = Type.Object({
  subject: Type.String(),
  system: Type.String(),
  fields: Type.Array(Type.String()),
  erasedAt: Instant,
});
export type ErasureResult = Static<typeof ErasureResult>;

export const Reappearance = Type.Object({
  subject: Type.String(),
  field: Type.String(),
  erasedAt: Instant,
  reappearedAt: Type.Optional(Instant),
  lastUseAt: Instant,
  system: Type.String(),
});
export type Reappearance = Static<typeof Reappearance>;
