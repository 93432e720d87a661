import type { RightsRequest, TicketDoneInput } from '@lethe/api';
import { authorize, mayActForSystem, requireAllCategories } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { toIso } from '../lib/time.js';
import type { Store } from '../store/store.js';
import { actorOf, audit } from '../audit/audit-trail.js';
import type { ServerSecrets } from '../auth/server-secrets.js';
import { DeadlineError, extendedDueAt } from './deadlines.js';
import { requireOpen, requireRequest, requireTask } from './request-lookup.js';
import { settleRequest, storeFoundRecords, type Completion } from './request-progress.js';
import type { RequestReader } from './request-reader.js';
import type { RequestSettings } from './request-settings.js';
import type { RequestVault } from './request-vault.js';
import type { StoredErasurePlan } from './erasure-plan.js';
import { ticketFindings } from './ticket-findings.js';

/**
 * What people do to a running request besides moving its status: extend the deadline, confirm
 * receipt, mark a DSAR package delivered (its findings go at once), retry a failed task,
 * complete a ticket.
 */
export class RequestActions {
  constructor(
    private readonly store: Store,
    private readonly vault: RequestVault,
    private readonly secrets: ServerSecrets,
    private readonly settings: RequestSettings,
    private readonly reader: RequestReader,
    /** Called when tasks become due, so the runner starts at once instead of at its next tick. */
    private readonly wake: () => void,
    private readonly now: () => number,
    /** The vault and what a completed erasure also removes (see `RequestService.whenErased`). */
    private readonly completion: Completion,
  ) {}

  async extend(principal: Principal, id: string, reason: string): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    await this.store.transaction(async (repository) => {
      const row = await requireRequest(repository, id);
      requireOpen(row, 'extend');
      let extended: number;
      try {
        extended = extendedDueAt(row.received_at, this.settings.jurisdictions[row.jurisdiction as 'gdpr'], {
          alreadyExtended: row.extended_at !== null,
        });
      } catch (error) {
        if (error instanceof DeadlineError) throw new AppError('NO_EXTENSION', error.message);
        throw error;
      }
      const now = this.now();
      await repository.requests.updateRequest(id, {
        due_at: extended,
        extended_at: now,
        extended_by: actorOf(principal),
        extension_reason: reason,
        updated_at: now,
      });
      await audit(repository, principal, 'request.extend', `request:${id} due=${toIso(extended)}`);
    });
    return this.reader.get(principal, id);
  }

  /** Records that the person was told their request arrived (CCPA: within 10 business days). */
  async confirmReceipt(principal: Principal, id: string): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    await this.store.transaction(async (repository) => {
      const row = await requireRequest(repository, id);
      if (row.receipt_confirmed_at !== null) {
        throw new AppError('REQUEST_STATE_CONFLICT', `Receipt of "${id}" was confirmed already.`);
      }
      const now = this.now();
      await repository.requests.updateRequest(id, {
        receipt_confirmed_at: now,
        receipt_confirmed_by: actorOf(principal),
        updated_at: now,
      });
      await audit(repository, principal, 'request.confirm-receipt', `request:${id}`);
    });
    return this.reader.get(principal, id);
  }

  /** The DSAR package reached the person: its findings are destroyed now, not at the window's end. */
  async markDelivered(principal: Principal, id: string): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    await this.store.transaction(async (repository) => {
      const row = await requireRequest(repository, id);
      if (row.type !== 'dsar') throw new AppError('NOT_A_DSAR', `Request "${id}" is a ${row.type}.`);
      if (row.status !== 'completed') {
        throw new AppError('REQUEST_STATE_CONFLICT', `Request "${id}" is ${row.status}, not completed.`);
      }
      const now = this.now();
      await repository.requests.updateRequest(id, { delivered_at: now, updated_at: now });
      await repository.requests.destroyPii(id, now);
      await audit(repository, principal, 'request.delivered', `request:${id}`);
    });
    return this.reader.get(principal, id);
  }

  /** A failed or held task gets a fresh retry budget; the request runs again. */
  async retryTask(principal: Principal, id: string, position: number): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    const now = this.now();
    await this.store.transaction(async (repository) => {
      const row = await requireRequest(repository, id);
      const task = await requireTask(repository, id, position);
      // A held task is retried once its hold is released (it is checked again when it runs).
      if (task.state !== 'failed' && task.state !== 'held') {
        throw new AppError('TASK_STATE_CONFLICT', `Task ${position} is ${task.state}, not failed or held.`);
      }
      if (row.pii_destroyed_at !== null) {
        throw new AppError('PII_DESTROYED', `Request "${id}" no longer holds the identifiers to retry with.`);
      }
      if (row.status === 'failed') {
        await repository.requests.updateRequest(
          id,
          { status: 'in_progress', status_reason: null, updated_at: now },
          'failed',
        );
      } else if (row.status !== 'in_progress') {
        throw new AppError('REQUEST_STATE_CONFLICT', `Request "${id}" is ${row.status}.`);
      }
      await repository.requests.updateTask(task.id, {
        state: 'pending',
        retry_base: task.attempts,
        next_attempt_at: now,
        last_error: null,
        updated_at: now,
      });
      await audit(repository, principal, 'request.retry-task', `request:${id} task=${position}`);
    });
    this.wake();
    return this.reader.get(principal, id);
  }

  /**
   * A DPO approves the erasure plan a task waits with: its counts become the most the task may
   * change per table, and it runs again (with a fresh retry budget). The run counts again: a
   * table grown beyond what was approved waits again.
   */
  async approveErasure(principal: Principal, id: string, position: number): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    const now = this.now();
    await this.store.transaction(async (repository) => {
      const row = await requireRequest(repository, id);
      const task = await requireTask(repository, id, position);
      if (task.state !== 'waiting_approval' || task.erasure_plan === null) {
        throw new AppError(
          'TASK_STATE_CONFLICT',
          `Task ${position} is ${task.state}, not waiting for approval.`,
        );
      }
      if (row.status !== 'in_progress') {
        throw new AppError('REQUEST_STATE_CONFLICT', `Request "${id}" is ${row.status}.`);
      }
      const { rows } = JSON.parse(task.erasure_plan) as StoredErasurePlan;
      const approved = await repository.requests.updateTask(
        task.id,
        {
          state: 'pending',
          approved_plan: JSON.stringify(rows),
          plan_approved_by: actorOf(principal),
          plan_approved_at: now,
          retry_base: task.attempts,
          next_attempt_at: now,
          updated_at: now,
        },
        { state: 'waiting_approval', attempts: task.attempts },
      );
      if (!approved) throw new AppError('TASK_STATE_CONFLICT', `Task ${position} changed meanwhile.`);
      const counts = Object.keys(rows)
        .sort()
        .map((table) => `${table}:${rows[table]}`);
      await audit(
        repository,
        principal,
        'request.approve-erasure',
        `request:${id} task=${position} rows=${counts.join(',')}`,
      );
    });
    this.wake();
    return this.reader.get(principal, id);
  }

  /** A person marks a ticket done: the owning team acted on the request in their system. */
  async completeTicket(
    principal: Principal,
    id: string,
    position: number,
    input: TicketDoneInput,
  ): Promise<RightsRequest> {
    authorize(principal, 'tickets:complete');
    const now = this.now();
    // Read before the transaction: on SQLite a read outside it would wait for it to end.
    const hashKey = await this.secrets.key('identifiers');
    await this.store.transaction(
      async (repository) => {
        const row = await requireRequest(repository, id);
        const task = await requireTask(repository, id, position);
        if (task.system !== null && !mayActForSystem(principal, task.system)) {
          throw new AppError('SYSTEM_NOT_PERMITTED', `The token may not act for system "${task.system}".`);
        }
        if (task.state !== 'waiting') {
          throw new AppError('TASK_STATE_CONFLICT', `Task ${position} is ${task.state}, not an open ticket.`);
        }
        const records = input.records ?? [];
        const found = ticketFindings(row.type, task, records, input.file);
        if (found.length > 0) {
          const sealer = await this.vault.open(repository, id);
          if (!sealer) throw new AppError('PII_DESTROYED', `Request "${id}" no longer holds its key.`);
          await storeFoundRecords(repository, sealer, hashKey, row, task, 0, found);
        }
        await repository.requests.updateTask(
          task.id,
          {
            state: 'done',
            completed_at: now,
            completed_by: actorOf(principal),
            note: input.note ?? null,
            rows_found: records.length,
            rows_changed: input.deleted ?? 0,
            updated_at: now,
          },
          { state: 'waiting' },
        );
        const attached =
          input.file !== undefined ? ` file=${found.at(-1)?.values?.['sha256'] as string}` : '';
        await audit(
          repository,
          principal,
          'request.ticket-done',
          `request:${id} task=${position} records=${records.length}${attached}`,
        );
        await settleRequest(repository, id, now, this.settings, this.completion);
      },
      { freshAggregates: true },
    );
    return this.reader.view(principal, id);
  }
}
