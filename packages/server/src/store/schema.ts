/**
 * Row types of every table, as Kysely sees them. Times are epoch milliseconds in both backends.
 * Domain types live in `@lethe/api` and `../domain`; mappers between the two live beside the
 * queries that need them.
 */
export interface Database {
  meta: MetaRow;
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
  signing_keys: SigningKeyRow;
  signing_key_secrets: SigningKeySecretRow;
  audit_log: AuditRow;
  audit_head: AuditHeadRow;
  audit_checkpoints: AuditCheckpointRow;
  teams: TeamRow;
  flows: FlowRow;
  rights_clients: RightsClientRow;
  taxonomy_entries: TaxonomyEntryRow;
  discovery_sources: DiscoverySourceRow;
  observations: ObservationRow;
  usage_links: UsageLinkRow;
  rights_requests: RightsRequestRow;
  request_keys: RequestKeyRow;
  request_identifier_hashes: RequestIdentifierHashRow;
  suppressions: SuppressionRow;
  suppression_hits: SuppressionHitRow;
  request_tasks: RequestTaskRow;
  request_task_attempts: RequestTaskAttemptRow;
  request_records: RequestRecordRow;
  connectors: ConnectorRow;
  field_keys: FieldKeyRow;
  field_key_tombstones: FieldKeyTombstoneRow;
  contracts: ContractRow;
  stream_events: StreamEventRow;
  stream_head: StreamHeadRow;
  consent_events: ConsentEventRow;
  consent_states: ConsentStateRow;
  consent_violations: ConsentViolationRow;
  stream_exports: StreamExportRow;
  sign_in_codes: SignInCodeRow;
}

export interface MetaRow {
  key: string;
  value: string;
}

export interface PolicyRow {
  name: string;
  purpose: string;
  retention: string;
  legal_basis: string;
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
  description: string | null;
  data_subjects: string | null;
  reviewed_on: string | null;
  status: 'active' | 'retired';
  changed_at: number;
  changed_by: string;
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

/** The public half of a signing key; kept after the private half is destroyed. */
export interface SigningKeyRow {
  kid: string;
  algorithm: string;
  public_jwk: string;
  created_at: number;
  /**
   * When the key starts signing; null: from `created_at`. A scheduled rotation publishes the next
   * key ahead (see `auth/signing-keys.ts`), so that verifiers have it before it signs.
   */
  activates_at: number | null;
  /** When a newer key took over signing; the key verifies for one token lifetime more. */
  retired_at: number | null;
  /** Set when an operator withdrew the key at once (suspected leak): it verifies nothing after. */
  revoked_at: number | null;
}

export interface SigningKeySecretRow {
  kid: string;
  /** The private JWK wrapped under the master key: a `v1.…` envelope (`auth/master-key.ts`). */
  private_jwk: string;
}

export interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadRow {
  id: number;
  seq: number;
  hash: string;
}

/** The chain's head at `seq`, signed (compact JWS) with the signing key `kid`. */
export interface AuditCheckpointRow {
  seq: number;
  hash: string;
  at: number;
  kid: string;
  signature: string;
}

// Data map ----------------------------------------------------------------------------------

export interface TeamRow {
  name: string;
  description: string | null;
  contact: string | null;
  created_at: number;
  updated_at: number;
}

/** A declared flow: `from_system` transmits `categories` (JSON array) to `to_system`. */
export interface FlowRow {
  from_system: string;
  to_system: string;
  categories: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}

export interface RightsClientRow {
  name: string;
  system: string;
  protocol: string;
  address: string | null;
  created_at: number;
  updated_at: number;
}

/** The user's additions to a default taxonomy (`categories` or `purposes`). */
export interface TaxonomyEntryRow {
  taxonomy: 'categories' | 'purposes';
  key: string;
  description: string;
  special: number;
}

/** A Prometheus server or a list of `/metrics` targets that feed the data map. */
export interface DiscoverySourceRow {
  name: string;
  kind: 'prometheus' | 'scrape';
  /** The Prometheus base URL (kind prometheus). */
  url: string | null;
  /** JSON array of `/metrics` URLs (kind scrape). */
  targets: string | null;
  /** JSON of the metric/label name options (prefix, metrics, labels). */
  names: string;
  /** JSON map from a `data_type` label value to a category key. */
  data_types: string;
  interval_ms: number;
  stale_after_ms: number;
  created_at: number;
  updated_at: number;
  last_run_at: number | null;
  last_success_at: number | null;
  last_error: string | null;
}

/** One series a discovery source saw; see `datamap/datamap.ts` for what each column holds per kind. */
export interface ObservationRow {
  source: string;
  kind: 'transmit' | 'store' | 'client';
  team: string;
  system: string;
  target: string;
  data_type: string;
  protocol: string;
  category: string;
  first_seen_at: number;
  last_seen_at: number;
}

/** Per (system, field, policy): telemetry's uses, aggregated at ingest (drift, record of processing). */
export interface UsageLinkRow {
  system: string;
  field: string;
  policy: string;
  first_use_at: number;
  last_use_at: number;
  use_count: number;
}

/**
 * A privacy rights request. Its identifiers are kept only sealed under the request's own key
 * (`request_keys`) while it runs; afterwards the key is gone and only keyed hashes remain.
 */
export interface RightsRequestRow {
  id: string;
  type: string;
  strategy: string;
  jurisdiction: string;
  status: string;
  /** `api`, `csv` or `cli`. */
  source: string;
  /** The normalised identifiers (JSON), sealed under the request key; null once destroyed. */
  identifiers_sealed: string | null;
  /** JSON array of the identifier kinds given (`email`, `address`…), kept after destruction. */
  identifier_kinds: string;
  /** A masked description for lists (`j***@example.com`). */
  masked: string;
  received_at: number;
  due_at: number;
  extended_at: number | null;
  extended_by: string | null;
  extension_reason: string | null;
  receipt_due_at: number | null;
  receipt_confirmed_at: number | null;
  receipt_confirmed_by: string | null;
  verification_required: number;
  verified_at: number | null;
  verified_by: string | null;
  verification_method: string | null;
  approval_required: number;
  approved_at: number | null;
  approved_by: string | null;
  /** Why it was denied, canceled or failed. */
  status_reason: string | null;
  status_changed_by: string | null;
  /** A completed erasure for the same person (matched by keyed hash). */
  previously_erased_by: string | null;
  rows_found: number;
  /** The actor who set it going; call tokens carry them in `act`. */
  actor_id: string;
  actor_role: string;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  completed_at: number | null;
  /** A DSAR's findings stay readable until then (delivery window); null for other types. */
  pii_expires_at: number | null;
  delivered_at: number | null;
  pii_destroyed_at: number | null;
}

/** The request's own data key, wrapped under the master key; the row is deleted to destroy it. */
export interface RequestKeyRow {
  request_id: string;
  wrapped_key: string;
}

/** Keyed hash of one identifier of a request: duplicate detection and the suppression list. */
export interface RequestIdentifierHashRow {
  hash: string;
  request_id: string;
  semantic: string;
}

/** A person erased by a completed delete request, known only by keyed hashes of identifiers. */
export interface SuppressionRow {
  hash: string;
  semantic: string;
  request_id: string;
  added_at: number;
}

/** Telemetry about a person an erasure removed: their data came back from `system`. */
export interface SuppressionHitRow {
  request_id: string;
  subject: string;
  system: string;
  first_seen_at: number;
  last_seen_at: number;
  count: number;
}

/** One system or database a request must reach. */
export interface RequestTaskRow {
  id: string;
  request_id: string;
  position: number;
  /** `client` (a rights client), `connector` (a SQL connector) or `team` (no client: a ticket). */
  target_kind: string;
  target: string;
  system: string | null;
  team: string | null;
  /** http, grpc, ticket, postgres, mysql, sqlite. */
  protocol: string;
  /** JSON array of why the plan includes it. */
  reasons: string;
  state: string;
  attempts: number;
  /** `attempts` when a person last retried the task by hand; the retry budget counts from it. */
  retry_base: number;
  next_attempt_at: number | null;
  /** A running task whose lease has passed was interrupted (a restart) and is taken up again. */
  lease_until: number | null;
  last_error: string | null;
  rows_found: number;
  rows_changed: number;
  started_at: number | null;
  completed_at: number | null;
  completed_by: string | null;
  note: string | null;
  created_at: number;
  updated_at: number;
}

export interface RequestTaskAttemptRow {
  task_id: string;
  attempt: number;
  started_at: number;
  finished_at: number | null;
  /** ok, retry, failed; null while running. */
  outcome: string | null;
  error: string | null;
}

/** A detail row of a request's report: one matched record. */
export interface RequestRecordRow {
  request_id: string;
  task_id: string;
  seq: number;
  datasource: string;
  pk: string;
  match_category: string;
  semantic: string;
  /** Keyed hash of the matching value: kept after the request key is destroyed. */
  semantic_value_hash: string;
  /** JSON `{semanticValue, values?}` sealed under the request key; null once destroyed. */
  sealed: string | null;
  /** JSON array of the record's compliance/pii columns. */
  pii_columns: string;
}

/** A SQL database searched directly; the connection string stays in the named environment variable. */
export interface ConnectorRow {
  name: string;
  type: string;
  url_env: string;
  system: string | null;
  description: string | null;
  /** JSON array of ConnectorTable. */
  tables: string;
  created_at: number;
  updated_at: number;
}

/**
 * A privacy stream's field key: one per (contract, key-link value, rotation period
 * `[period_start, period_end)`). `wrapped` is the key material wrapped by the master key, never
 * the raw key. `key_link` and `subject` are personal data; `id` is random.
 */
export interface FieldKeyRow {
  id: string;
  contract: string;
  key_link: string;
  subject: string;
  period_start: number;
  period_end: number;
  wrapped: string;
  created_at: number;
}

/** A shredded field key: the period it covered and why it went, with no key material. */
export interface FieldKeyTombstoneRow {
  id: string;
  contract: string;
  key_link: string;
  subject: string;
  period_start: number;
  period_end: number;
  shredded_at: number;
  reason: string;
}

/** One version of a data contract; `body` is the DataContractInput as JSON. Never updated. */
export interface ContractRow {
  name: string;
  version: number;
  body: string;
  created_at: number;
}

/**
 * An event of the base stream: `data` (JSON) has every personal value as a field ciphertext;
 * `key_id` is the key they were made with (null when the event held no personal value).
 */
export interface StreamEventRow {
  seq: number;
  id: string;
  contract: string;
  key_id: string | null;
  at: number;
  received_at: number;
  /** JSON array of purpose keys. */
  consent: string;
  data: string;
}

/** The last position of the base stream; its row lock orders appends (one row, id 1). */
export interface StreamHeadRow {
  id: number;
  seq: number;
}

/** One grant or withdrawal of consent, with what proves it (GDPR Art. 7(1)); never updated. */
export interface ConsentEventRow {
  id: string;
  subject: string;
  purpose: string;
  /** 1 for a grant, 0 for a withdrawal. */
  granted: number;
  /** When the subject gave or withdrew consent. */
  at: number;
  recorded_at: number;
  /** Position within one recording request, to order events of the same millisecond. */
  seq: number;
  /** The principal that recorded it (token subject) and its role. */
  recorded_by: string;
  recorder_role: string;
  /** Who or where the consent came from (a front end, a CMP, an import file). */
  source: string | null;
  /** Id or URL of the notice shown to the subject, and its version. */
  notice: string | null;
  notice_version: string | null;
  /** How it was given: web-form, checkbox, api, import, tcf… */
  method: string | null;
  channel: string | null;
  url: string | null;
  /** The IAB TCF string it was decoded from, kept as proof. */
  tc_string: string | null;
}

/** Per (subject, purpose): the latest grant interval, derived from the history. */
export interface ConsentStateRow {
  subject: string;
  purpose: string;
  granted_at: number | null;
  withdrawn_at: number | null;
  changed_at: number;
  last_event_id: string;
}

/** Per (subject, policy, system): uses under a consent-based policy made without consent. */
export interface ConsentViolationRow {
  subject: string;
  policy: string;
  system: string;
  purpose: string;
  first_at: number;
  last_at: number;
  use_count: number;
}

/**
 * An export of a privacy stream (a view of it) to files or a NATS subject. `config_version` grows
 * with every change of the configuration, so runners know to restart; `position` is the base
 * stream position delivered up to (for file exports a copy of the manifest's, which rules);
 * `lease_owner`/`lease_until` say which node runs it.
 */
export interface StreamExportRow {
  name: string;
  target: string;
  /** JSON array of purposes; null for the base stream. */
  purposes: string | null;
  withheld: string;
  file_max_bytes: number | null;
  file_max_age_seconds: number | null;
  nats_subject: string | null;
  config_version: number;
  position: number;
  files_written: number;
  last_error: string | null;
  last_error_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
}

/**
 * A one-time sign-in link's code (`lethe token create --link`), kept only as its SHA-256, with the
 * token it is traded for. The row is deleted when the code is used, so a used code is nowhere.
 */
export interface SignInCodeRow {
  /** base64url SHA-256 of the code. */
  code_hash: string;
  /** Names the link in the audit log (the code itself is never written anywhere). */
  id: string;
  subject: string;
  role: string;
  system: string | null;
  /** JSON array of category keys; null: every category. */
  categories: string | null;
  /** JSON array of grants; null: none. */
  grants: string | null;
  /** The token's lifetime, counted from the exchange. */
  ttl_seconds: number;
  /** The audit log's name of who made the link (`admin:cli:alice`). */
  created_by: string;
  created_at: number;
  expires_at: number;
}
