import type { ManualDoneInput, RightsRequest } from '@lethe/api';
import { authorize, requireAllCategories } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import type { Store } from '../store/store.js';
import type { Repository } from '../store/repository.js';
import { actorOf, audit } from '../audit/audit-trail.js';
import type { ServerSecrets } from '../auth/server-secrets.js';
import { requireRequest, requireTask } from './request-lookup.js';
import { settleRequest, storeFoundRecords, type Completion } from './request-progress.js';
import type { RequestReader } from './request-reader.js';
import type { RequestSettings } from './request-settings.js';
import { OVERRIDABLE_TASK_STATES } from './request-status.js';
import type { RequestTaskRow, RightsRequestRow } from './request-tables.js';
import type { RequestVault } from './request-vault.js';
import { ticketFindings } from './ticket-findings.js';

/**
 * What a DPO does to a task Lethe cannot finish by itself, so that no request dead-ends on one
 * system: skip it with a reason (the request completes without it and says so), or mark it done
 * by hand with a note (the team handled it outside Lethe). Both need `requests:manage` (admin,
 * dpo): skipping an erasure leaves the person's data in a system, a decision for the DPO, not for
 * a service token that may complete its own tickets (docs/security.md).
 */
export class TaskOverrides {
  constructor(
    private readonly store: Store,
    private readonly vault: RequestVault,
    private readonly secrets: ServerSecrets,
    private readonly settings: RequestSettings,
    private readonly reader: RequestReader,
    private readonly now: () => number,
    private readonly completion: Completion,
  ) {}

  /** The request completes without this task's system; the reason goes into its status reason. */
  async skipTask(principal: Principal, id: string, position: number, reason: string): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    const now = this.now();
    await this.store.transaction(
      async (repository) => {
        const { row, task } = await this.overridable(repository, id, position, 'skip');
        await reopenIfFailed(repository, row, now);
        await this.finish(repository, task, {
          state: 'skipped',
          completed_at: now,
          completed_by: actorOf(principal),
          note: reason,
          next_attempt_at: null,
          lease_until: null,
          updated_at: now,
        });
        // Nothing of a skipped system goes into the answer: a failed attempt's partial findings neither.
        await repository.requests.clearRecords(task.id);
        await audit(
          repository,
          principal,
          'request.skip-task',
          `request:${id} task=${position} target=${task.target} type=${row.type} was=${task.state}`,
        );
        await settleRequest(repository, id, now, this.settings, this.completion);
      },
      { freshAggregates: true },
    );
    return this.reader.get(principal, id);
  }

  /**
   * The team did the work outside Lethe (the system could not be reached): the task is done with
   * the note, the count they deleted and, for a DSAR, the records and file they found. What a
   * failed attempt had found is replaced by these.
   */
  async markTaskDone(
    principal: Principal,
    id: string,
    position: number,
    input: ManualDoneInput,
  ): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    const now = this.now();
    // Read before the transaction: on SQLite a read outside it would wait for it to end.
    const hashKey = await this.secrets.key('identifiers');
    await this.store.transaction(
      async (repository) => {
        const { row, task } = await this.overridable(repository, id, position, 'be marked done');
        const records = input.records ?? [];
        const found = ticketFindings(row.type, task, records, input.file);
        await reopenIfFailed(repository, row, now);
        await repository.requests.clearRecords(task.id);
        if (found.length > 0) {
          const sealer = await this.vault.open(repository, id);
          if (!sealer) throw new AppError('PII_DESTROYED', `Request "${id}" no longer holds its key.`);
          await storeFoundRecords(repository, sealer, hashKey, row, task, 0, found);
        }
        await this.finish(repository, task, {
          state: 'done',
          completed_at: now,
          completed_by: actorOf(principal),
          note: input.note,
          rows_found: records.length,
          rows_changed: input.deleted ?? 0,
          next_attempt_at: null,
          lease_until: null,
          last_error: null,
          updated_at: now,
        });
        const attached =
          input.file !== undefined ? ` file=${found.at(-1)?.values?.['sha256'] as string}` : '';
        await audit(
          repository,
          principal,
          'request.task-done-by-hand',
          `request:${id} task=${position} target=${task.target} was=${task.state} records=${records.length}${attached}`,
        );
        await settleRequest(repository, id, now, this.settings, this.completion);
      },
      { freshAggregates: true },
    );
    return this.reader.get(principal, id);
  }

  /** The request is running or failed and the task neither done nor running, else a 409. */
  private async overridable(
    repository: Repository,
    id: string,
    position: number,
    step: string,
  ): Promise<{ row: RightsRequestRow; task: RequestTaskRow }> {
    const row = await requireRequest(repository, id);
    const task = await requireTask(repository, id, position);
    if (row.status !== 'in_progress' && row.status !== 'failed') {
      throw new AppError(
        'REQUEST_STATE_CONFLICT',
        `Request "${id}" is ${row.status}; its tasks cannot ${step}.`,
        {
          status: row.status,
        },
      );
    }
    if (!OVERRIDABLE_TASK_STATES.includes(task.state)) {
      throw new AppError(
        'TASK_STATE_CONFLICT',
        `Task ${position} is ${task.state}; it can ${step} when ${OVERRIDABLE_TASK_STATES.join(', ')}.`,
        { state: task.state },
      );
    }
    return { row, task };
  }

  /** Compare-and-set on the state read: a runner that claimed the task meanwhile wins. */
  private async finish(
    repository: Repository,
    task: RequestTaskRow,
    changes: Partial<RequestTaskRow>,
  ): Promise<void> {
    const changed = await repository.requests.updateTask(task.id, changes, {
      state: task.state,
      attempts: task.attempts,
    });
    if (!changed) {
      throw new AppError('TASK_STATE_CONFLICT', `Task ${task.position} changed meanwhile; read it again.`);
    }
  }
}

/** A failed request runs again, so that settling it can complete it. */
async function reopenIfFailed(repository: Repository, row: RightsRequestRow, now: number): Promise<void> {
  if (row.status !== 'failed') return;
  await repository.requests.updateRequest(
    row.id,
    { status: 'in_progress', status_reason: null, updated_at: now },
    'failed',
  );
}
