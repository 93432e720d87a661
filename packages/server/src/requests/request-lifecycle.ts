import type { RightsRequest, VerifyInput } from '@lethe/api';
import { authorize, requireAllCategories } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import type { RightsRequestRow } from './request-tables.js';
import type { Store } from '../store/store.js';
import { actorOf, audit } from '../audit/audit-trail.js';
import type { GraphService } from '../datamap/graph-service.js';
import { identifiersOf, requireRequest, taskId } from './request-lookup.js';
import { planRequest } from './request-planner.js';
import { settleRequest, type Completion } from './request-progress.js';
import type { RequestReader } from './request-reader.js';
import type { RequestSettings } from './request-settings.js';
import {
  FINISHED_TASK_STATES,
  isRequestStatus,
  movableFrom,
  nextStatus,
  type RequestMove,
} from './request-status.js';
import type { RequestVault } from './request-vault.js';

/**
 * A rights request's way through its statuses: verification and approval (taken by people, or
 * at once when configuration does not ask for them), then the start (plan → tasks); denial and
 * cancellation end it without its work.
 */
export class RequestLifecycle {
  constructor(
    private readonly store: Store,
    private readonly graph: GraphService,
    private readonly vault: RequestVault,
    private readonly settings: RequestSettings,
    private readonly reader: RequestReader,
    /** Called when tasks become due, so the runner starts at once instead of at its next tick. */
    private readonly wake: () => void,
    private readonly now: () => number,
    /** The vault and what a completed erasure also removes (see `RequestService.whenErased`). */
    private readonly completion: Completion,
  ) {}

  /**
   * Takes every step that configuration does not ask a person to take: verification and
   * approval when not required, then the start (plan → tasks).
   */
  async advance(principal: Principal, id: string): Promise<void> {
    const row = await requireRequest(this.store.repository, id);
    if (row.status === 'received' && row.verification_required === 0) {
      await this.move(principal, id, 'verify', { verification_method: 'not required' });
      return this.advance(principal, id);
    }
    if (row.status === 'identity_verified' && row.approval_required === 0) {
      await this.move(principal, id, 'approve', {});
      return this.advance(principal, id);
    }
    if (row.status === 'approved') await this.start(principal, row);
  }

  /** Plans outside the transaction (the graph is cached), then writes the tasks with the start. */
  async start(principal: Principal, row: RightsRequestRow): Promise<void> {
    const identifiers = await identifiersOf(this.vault, this.store.repository, row);
    await this.store.freshAggregates();
    const plan = await planRequest(this.store.repository, this.graph, identifiers);
    const now = this.now();
    await this.store.transaction(
      async (repository) => {
        const changed = await repository.requests.updateRequest(
          row.id,
          { status: 'in_progress', started_at: now, updated_at: now },
          'approved',
        );
        if (!changed) return; // someone else started it meanwhile
        await repository.requests.insertTasks(
          plan.map((target, index) => ({
            id: taskId(row.id, index + 1),
            request_id: row.id,
            position: index + 1,
            target_kind: target.targetKind,
            target: target.target,
            system: target.system ?? null,
            team: target.team ?? null,
            protocol: target.protocol,
            reasons: JSON.stringify(target.reasons),
            state: 'pending',
            attempts: 0,
            retry_base: 0,
            next_attempt_at: now,
            lease_until: null,
            last_error: null,
            rows_found: 0,
            rows_changed: 0,
            started_at: null,
            completed_at: null,
            completed_by: null,
            note: null,
            erasure_plan: null,
            approved_plan: null,
            plan_approved_by: null,
            plan_approved_at: null,
            created_at: now,
            updated_at: now,
          })),
        );
        await audit(repository, principal, 'request.start', `request:${row.id} tasks=${plan.length}`);
        // A request with nothing to ask is complete at once (the plan, empty, is its record).
        await settleRequest(repository, row.id, now, this.settings, this.completion);
      },
      { freshAggregates: true },
    );
    this.wake();
  }

  async verifyIdentity(principal: Principal, id: string, input: VerifyInput): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    await this.move(principal, id, 'verify', {
      verified_at: this.now(),
      verified_by: actorOf(principal),
      verification_method: input.method,
      ...(input.note !== undefined ? { status_reason: input.note } : {}),
    });
    await this.advance(principal, id);
    return this.reader.get(principal, id);
  }

  async approve(principal: Principal, id: string): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    await this.move(principal, id, 'approve', { approved_at: this.now(), approved_by: actorOf(principal) });
    await this.advance(principal, id);
    return this.reader.get(principal, id);
  }

  async deny(principal: Principal, id: string, reason: string): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    await this.move(
      principal,
      id,
      'deny',
      { status_reason: reason, status_changed_by: actorOf(principal) },
      true,
    );
    return this.reader.get(principal, id);
  }

  async cancel(principal: Principal, id: string, reason: string): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    await this.move(
      principal,
      id,
      'cancel',
      { status_reason: reason, status_changed_by: actorOf(principal) },
      true,
    );
    return this.reader.get(principal, id);
  }

  /**
   * Applies `move` if the request's status allows it (compare-and-set on the status). A request
   * that ends without its work (denied, canceled) loses its personal data at once.
   */
  async move(
    principal: Principal,
    id: string,
    move: RequestMove,
    changes: Partial<RightsRequestRow>,
    ends = false,
  ): Promise<void> {
    const now = this.now();
    await this.store.transaction(async (repository) => {
      const row = await requireRequest(repository, id);
      const to = isRequestStatus(row.status) ? nextStatus(row.status, move) : undefined;
      if (to === undefined) {
        throw new AppError(
          'REQUEST_STATE_CONFLICT',
          `Request "${id}" is ${row.status}; "${move}" needs one of ${movableFrom(move).join(', ')}.`,
          { status: row.status },
        );
      }
      await repository.requests.updateRequest(id, { ...changes, status: to, updated_at: now }, row.status);
      if (ends) {
        for (const task of await repository.requests.listTasks(id)) {
          if (!FINISHED_TASK_STATES.includes(task.state)) {
            await repository.requests.updateTask(task.id, {
              state: 'canceled',
              lease_until: null,
              updated_at: now,
            });
          }
        }
        await repository.requests.destroyPii(id, now);
      }
      await audit(repository, principal, `request.${move}`, `request:${id}`);
    });
  }
}
