import type { Identifiers } from '@lethe/api';
import { AppError } from '../lib/app-error.js';
import type { Repository } from '../store/repository.js';
import type { RequestTaskRow, RightsRequestRow } from './request-tables.js';
import { OPEN_STATUSES } from './request-status.js';
import type { RequestVault } from './request-vault.js';

/** Task ids sort in plan order within a request: `<request>:<position, 4 digits>`. */
export function taskId(requestId: string, position: number): string {
  return `${requestId}:${String(position).padStart(4, '0')}`;
}

export async function requireRequest(repository: Repository, id: string): Promise<RightsRequestRow> {
  const row = await repository.requests.getRequest(id);
  if (!row) throw new AppError('REQUEST_NOT_FOUND', `No rights request "${id}".`);
  return row;
}

export async function requireTask(
  repository: Repository,
  id: string,
  position: number,
): Promise<RequestTaskRow> {
  const task = await repository.requests.getTask(taskId(id, position));
  if (!task) throw new AppError('TASK_NOT_FOUND', `Request "${id}" has no task ${position}.`);
  return task;
}

export function requireOpen(row: RightsRequestRow, step: string): void {
  if (!OPEN_STATUSES.includes(row.status)) {
    throw new AppError('REQUEST_STATE_CONFLICT', `Request "${row.id}" is ${row.status}; it cannot ${step}.`);
  }
}

/** The request's identifiers, unsealed with its key; PII_DESTROYED once the key or they are gone. */
export async function identifiersOf(
  vault: RequestVault,
  repository: Repository,
  row: RightsRequestRow,
): Promise<Identifiers> {
  const sealer = await vault.open(repository, row.id);
  if (!sealer || row.identifiers_sealed === null) {
    throw new AppError('PII_DESTROYED', `Request "${row.id}" no longer holds its identifiers.`);
  }
  return sealer.open<Identifiers>(row.identifiers_sealed, 'identifiers');
}
