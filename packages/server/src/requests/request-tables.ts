import type { Jurisdiction, RequestStatus, RequestStrategy, RequestType, TaskState } from '@lethe/api';

/**
 * Rights requests: the requests, their keys and identifier hashes, the suppression list, tasks, records,
 * SQL connectors. Row types as Kysely sees them; `store/schema.ts` joins every feature's tables into
 * `Database`.
 */
export interface RequestTables {
  rights_requests: RightsRequestRow;
  request_keys: RequestKeyRow;
  request_identifier_hashes: RequestIdentifierHashRow;
  suppressions: SuppressionRow;
  suppression_hits: SuppressionHitRow;
  request_tasks: RequestTaskRow;
  request_task_attempts: RequestTaskAttemptRow;
  request_records: RequestRecordRow;
  connectors: ConnectorRow;
}

/**
 * A privacy rights request. Its identifiers are kept only sealed under the request's own key
 * (`request_keys`) while it runs; afterwards the key is gone and only keyed hashes remain.
 */
export interface RightsRequestRow {
  id: string;
  type: RequestType;
  strategy: RequestStrategy;
  jurisdiction: Jurisdiction;
  status: RequestStatus;
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
  /** A DSAR's snapshot of what Lethe itself knew about the subject, sealed; null once destroyed. */
  knowledge_sealed: string | null;
  /** delete_pii: JSON array of the data categories to erase (taxonomy keys); null: every personal column. */
  categories: string | null;
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
  state: TaskState;
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
  /**
   * An erasure's plan, JSON `ErasurePlan`: rows per table the connector's last run would change
   * (or changed), and the threshold it was held against. Null for DSARs and other targets.
   */
  erasure_plan: string | null;
  /** JSON rows per table a DPO approved; a run may change up to these, never more. */
  approved_plan: string | null;
  plan_approved_by: string | null;
  plan_approved_at: number | null;
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
  /** Why the row was reached but not erased (`shared`); null for the person's own rows. */
  kept: string | null;
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
