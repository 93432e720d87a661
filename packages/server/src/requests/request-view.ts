import type { RequestTask, RightsRequest } from '@lethe/api';
import { toIso } from '../lib/time.js';
import type { RequestTaskAttemptRow, RequestTaskRow, RightsRequestRow } from './request-tables.js';
import { daysLeft, isOverdue } from './deadlines.js';
import { OPEN_STATUSES } from './request-status.js';
import { erasurePlanView } from './erasure-plan.js';

const optionalIso = (value: number | null) => (value === null ? undefined : toIso(value));
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function requestRowToView(row: RightsRequestRow, now: number): RightsRequest {
  const open = OPEN_STATUSES.includes(row.status);
  return defined({
    id: row.id,
    type: row.type,
    strategy: row.strategy,
    jurisdiction: row.jurisdiction,
    status: row.status,
    source: row.source,
    identifierKinds: JSON.parse(row.identifier_kinds) as string[],
    masked: row.masked,
    receivedAt: toIso(row.received_at),
    dueAt: toIso(row.due_at),
    daysLeft: daysLeft(row.due_at, now),
    overdue: open && isOverdue(row.due_at, now),
    extension:
      row.extended_at !== null
        ? { at: toIso(row.extended_at), by: row.extended_by ?? '', reason: row.extension_reason ?? '' }
        : undefined,
    receipt: defined({
      dueAt: optionalIso(row.receipt_due_at),
      confirmedAt: optionalIso(row.receipt_confirmed_at),
      confirmedBy: row.receipt_confirmed_by ?? undefined,
    }),
    verification: defined({
      required: row.verification_required === 1,
      at: optionalIso(row.verified_at),
      by: row.verified_by ?? undefined,
      method: row.verification_method ?? undefined,
    }),
    approval: defined({
      required: row.approval_required === 1,
      at: optionalIso(row.approved_at),
      by: row.approved_by ?? undefined,
    }),
    statusReason: row.status_reason ?? undefined,
    statusChangedBy: row.status_changed_by ?? undefined,
    ...(row.categories === null ? {} : { categories: JSON.parse(row.categories) as string[] }),
    previouslyErasedBy: row.previously_erased_by ?? undefined,
    rowsFound: Number(row.rows_found),
    createdBy: `${row.actor_role}:${row.actor_id}`,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    startedAt: optionalIso(row.started_at),
    completedAt: optionalIso(row.completed_at),
    pii: defined({
      held: row.pii_destroyed_at === null,
      expiresAt: optionalIso(row.pii_expires_at),
      destroyedAt: optionalIso(row.pii_destroyed_at),
    }),
    deliveredAt: optionalIso(row.delivered_at),
  });
}

/**
 * A task as the API shows it. `reasons` are the task's reasons already filtered for the reader
 * and rendered (`task-reasons.ts`): the caller decides what the principal may read.
 */
export function taskRowToView(
  task: RequestTaskRow,
  attempts: readonly RequestTaskAttemptRow[],
  reasons: string[],
): RequestTask {
  return defined({
    task: task.position,
    target: task.target,
    targetKind: task.target_kind as RequestTask['targetKind'],
    system: task.system ?? undefined,
    team: task.team ?? undefined,
    protocol: task.protocol,
    reasons,
    state: task.state,
    attempts: task.attempts,
    nextAttemptAt: ['pending', 'retrying'].includes(task.state)
      ? optionalIso(task.next_attempt_at)
      : undefined,
    lastError: task.last_error ?? undefined,
    rowsFound: Number(task.rows_found),
    rowsChanged: Number(task.rows_changed),
    startedAt: optionalIso(task.started_at),
    completedAt: optionalIso(task.completed_at),
    completedBy: task.completed_by ?? undefined,
    note: task.note ?? undefined,
    erasurePlan: erasurePlanView(task),
    attemptLog: attempts
      .filter((attempt) => attempt.task_id === task.id)
      .map((attempt) =>
        defined({
          attempt: attempt.attempt,
          startedAt: toIso(attempt.started_at),
          finishedAt: optionalIso(attempt.finished_at),
          outcome: attempt.outcome ?? undefined,
          error: attempt.error ?? undefined,
        }),
      ),
  });
}
