/**
 * The wire contract's enumerations as plain lists, without the schema library: the schemas build
 * their literal unions from them, and the dashboard imports them as values (`@lethe/api/choices`)
 * without bundling TypeBox. A value added here reaches the server's validation, the SDK's types
 * and the dashboard's choices at once.
 */

export const LEGAL_BASES = [
  'consent',
  'contract',
  'legal_obligation',
  'vital_interests',
  'public_task',
  'legitimate_interests',
] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

export const REQUEST_TYPES = ['dsar', 'delete', 'delete_pii'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];
export const REQUEST_STRATEGIES = ['exact', 'connected'] as const;
export type RequestStrategy = (typeof REQUEST_STRATEGIES)[number];
export const JURISDICTIONS = ['gdpr', 'ccpa', 'pipeda', 'lgpd', 'app'] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];

/** The statuses of a rights request; the server's `request-status.ts` says how it moves between them. */
export const REQUEST_STATUSES = [
  'received',
  'identity_verified',
  'approved',
  'in_progress',
  'completed',
  'failed',
  'denied',
  'canceled',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
/**
 * Statuses in which the request is still owed an answer and its deadline runs (a failed request
 * too): the default of `GET /v1/requests`, and where it may still be steered or canceled.
 */
export const OPEN_REQUEST_STATUSES = [
  'received',
  'identity_verified',
  'approved',
  'in_progress',
  'failed',
] as const satisfies readonly RequestStatus[];
/** Statuses after which nothing more happens to the request. */
export const FINAL_REQUEST_STATUSES = [
  'completed',
  'denied',
  'canceled',
] as const satisfies readonly RequestStatus[];

/** `overdue`: open and past due; `7d`: open and due within the next seven days (not yet overdue). */
export const REQUEST_DUE_WINDOWS = ['overdue', '7d'] as const;
export type RequestDueWindow = (typeof REQUEST_DUE_WINDOWS)[number];

/**
 * What one task of a request is doing. `waiting`: a ticket is open and a person must act.
 * `waiting_approval`: an erasure's plan is over the row threshold and waits for a DPO.
 * `held`: an erasure a standing legal hold kept from running; nothing was changed, and the task
 * counts as finished (the request completes, saying what was kept) until a person retries it.
 * `skipped`: a DPO decided, with a reason, that the request completes without this system; the
 * request's status reason and the DSAR package say which systems were skipped and why.
 */
export const TASK_STATES = [
  'pending',
  'running',
  'retrying',
  'waiting',
  'waiting_approval',
  'done',
  'held',
  'skipped',
  'failed',
  'canceled',
] as const;
export type TaskState = (typeof TASK_STATES)[number];
