import {
  FINAL_REQUEST_STATUSES,
  OPEN_REQUEST_STATUSES,
  REQUEST_STATUSES,
  type RequestStatus,
  type TaskState,
} from '@lethe/api';

/**
 * The life of a rights request, as a table of allowed moves. Every change of status goes through
 * `nextStatus`, so a request can only move the way this table says.
 *
 * ```
 * received ─verify─▶ identity_verified ─approve─▶ approved ─start─▶ in_progress ─▶ completed
 *    │ (steps not required by configuration are passed at once)              └──▶ failed ─retry, skip, mark done─▶ in_progress
 *    └──────── deny (before the work starts) / cancel (any time before the end) ──▶ denied | canceled
 * ```
 */
export { REQUEST_STATUSES, type RequestStatus } from '@lethe/api';

export type RequestMove = 'verify' | 'approve' | 'start' | 'complete' | 'fail' | 'retry' | 'deny' | 'cancel';

const MOVES: Record<RequestMove, { from: readonly RequestStatus[]; to: RequestStatus }> = {
  verify: { from: ['received'], to: 'identity_verified' },
  approve: { from: ['identity_verified'], to: 'approved' },
  start: { from: ['approved'], to: 'in_progress' },
  complete: { from: ['in_progress'], to: 'completed' },
  fail: { from: ['in_progress'], to: 'failed' },
  retry: { from: ['failed', 'in_progress'], to: 'in_progress' },
  deny: { from: ['received', 'identity_verified', 'approved'], to: 'denied' },
  cancel: { from: ['received', 'identity_verified', 'approved', 'in_progress', 'failed'], to: 'canceled' },
};

/** Statuses after which nothing more happens to the request. */
export const FINAL_STATUSES: readonly RequestStatus[] = FINAL_REQUEST_STATUSES;
/**
 * Statuses in which a new request of the same type for the same person is refused as a
 * duplicate. A failed request is still open (its deadline runs), but it may be filed again: the
 * person is owed an answer, and a fresh request is a way to give it.
 */
export const DUPLICATE_STATUSES: readonly RequestStatus[] = [
  'received',
  'identity_verified',
  'approved',
  'in_progress',
];
/** Statuses in which the deadline still runs (a failed request is still owed an answer). */
export const OPEN_STATUSES: readonly RequestStatus[] = OPEN_REQUEST_STATUSES;

export function isRequestStatus(value: unknown): value is RequestStatus {
  return typeof value === 'string' && (REQUEST_STATUSES as readonly string[]).includes(value);
}

/** The status after `move`, or undefined when the move is not allowed from `status`. */
export function nextStatus(status: RequestStatus, move: RequestMove): RequestStatus | undefined {
  const rule = MOVES[move];
  return rule.from.includes(status) ? rule.to : undefined;
}

/** The statuses a move may start from, for error messages. */
export function movableFrom(move: RequestMove): readonly RequestStatus[] {
  return MOVES[move].from;
}

/** What one task of a request is doing: `TASK_STATES` in `@lethe/api`, where each is explained. */
export { TASK_STATES, type TaskState } from '@lethe/api';
export const FINISHED_TASK_STATES: readonly TaskState[] = ['done', 'held', 'skipped', 'failed', 'canceled'];
/**
 * Tasks a person may skip or mark done by hand: not yet done and not running (a running
 * attempt ends first; its outcome is then the task's state to act on). Not `held`: a legal hold
 * decides that task, and it runs again once the hold is released.
 */
export const OVERRIDABLE_TASK_STATES: readonly TaskState[] = [
  'pending',
  'retrying',
  'waiting',
  'waiting_approval',
  'failed',
];

/**
 * Where the request goes once its tasks have moved: completed when every task is done, failed
 * when all have finished and one failed, unchanged while any is still under way.
 */
export function settledStatus(taskStates: readonly TaskState[]): 'completed' | 'failed' | undefined {
  if (taskStates.some((state) => !FINISHED_TASK_STATES.includes(state))) return undefined;
  return taskStates.some((state) => state === 'failed') ? 'failed' : 'completed';
}
