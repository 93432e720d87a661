/**
 * Retention: the catalog (policies, systems, their datasets and fields), seen event ids, usages, the
 * expiries they decide, and erasures. Row types as Kysely sees them; `store/schema.ts` joins every
 * feature's tables into `Database`.
 */
export interface RetentionTables {
  policies: PolicyRow;
  policy_versions: PolicyVersionRow;
  systems: SystemRow;
  datasets: DatasetRow;
  fields: FieldRow;
  event_ids: EventIdRow;
  usages: UsageRow;
  field_expiries: FieldExpiryRow;
  subject_expiries: SubjectExpiryRow;
  erasures: ErasureRow;
  usage_journal: UsageJournalRow;
  subject_events: SubjectEventRow;
}

/** Something that happened to a subject (`account-closed`): an `event:` policy counts from it. */
export interface SubjectEventRow {
  subject: string;
  name: string;
  at: number;
  /** The client's id, unique: a retry with it is a duplicate. */
  event_id: string | null;
  received_at: number;
}

export interface PolicyRow {
  name: string;
  purpose: string;
  retention: string;
  legal_basis: string;
  /** The aging strategy: `last-use`, `first-use`, `event:<name>` or `until:<YYYY-MM-DD>`. */
  since: string;
  description: string | null;
  /** JSON array of data-subject categories, or null. */
  data_subjects: string | null;
  /** YYYY-MM-DD */
  reviewed_on: string | null;
  version: number;
  status: 'active' | 'retired';
  created_at: number;
  updated_at: number;
  retired_at: number | null;
}

export interface PolicyVersionRow {
  name: string;
  version: number;
  purpose: string;
  retention: string;
  legal_basis: string;
  since: string;
  description: string | null;
  data_subjects: string | null;
  reviewed_on: string | null;
  status: 'active' | 'retired';
  changed_at: number;
  changed_by: string;
  /** Why the version was made; null for versions from before reasons were kept (migration 0022). */
  reason: string | null;
}

export interface SystemRow {
  name: string;
  team: string;
  description: string | null;
  /** 1 when another company runs it (processor or recipient); 0 otherwise. */
  third_party: number;
  country: string | null;
  safeguards: string | null;
  created_at: number;
  updated_at: number;
}

/** A dataset belongs to exactly one system; its name is unique so that `dataset.field` addresses a field. */
export interface DatasetRow {
  name: string;
  system: string;
  position: number;
}

export interface FieldRow {
  /** `dataset.field` */
  field: string;
  dataset: string;
  name: string;
  /** JSON array of dotted category keys. */
  categories: string;
  position: number;
}

export interface EventIdRow {
  id: string;
  received_at: number;
}

/**
 * Accepted telemetry not yet folded into the aggregates below: one row per group commit, its
 * events encoded by `journal/journal-codec.ts`. Deleted once folded.
 */
export interface UsageJournalRow {
  seq: number;
  appended_at: number;
  events: number;
  payload: Uint8Array;
}

/** Per (subject, field, policy): how the field was used under that policy. */
export interface UsageRow {
  subject: string;
  field: string;
  policy: string;
  first_use_at: number;
  last_use_at: number;
  use_count: number;
  last_system: string;
  /** Latest use made while consent for the policy's purpose stood (consent-based policies only). */
  last_consented_use_at: number | null;
}

/** Per (subject, field): the expiry (max over its policies) and what decided it. */
export interface FieldExpiryRow {
  subject: string;
  field: string;
  expires_at: number;
  policy: string;
  system: string;
  last_use_at: number;
  erased_at: number | null;
  reappeared_at: number | null;
  /**
   * Expire now: when a DPO decided the field is due at once, why and who (else null). While set,
   * the fold and recomputes never move `expires_at` later.
   */
  expire_now_at: number | null;
  expire_reason: string | null;
  expire_by: string | null;
}

/** Per subject: the expiry (max over its fields) and the deciding field. */
export interface SubjectExpiryRow {
  subject: string;
  expires_at: number;
  field: string;
  policy: string;
  system: string;
}

export interface ErasureRow {
  subject: string;
  field: string;
  system: string;
  erased_at: number;
  recorded_at: number;
  recorded_by: string;
}

/** The catalog: every policy, system, dataset and field, read together at one catalog version. */
export interface Catalog {
  readonly version: number;
  readonly policies: PolicyRow[];
  readonly systems: SystemRow[];
  readonly datasets: DatasetRow[];
  readonly fields: FieldRow[];
}
