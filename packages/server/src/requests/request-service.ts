import type {
  ImportResult,
  ManualDoneInput,
  RequestInput,
  RequestList,
  RequestListQuery,
  RequestPlan,
  RequestTask,
  RightsRequest,
  TicketDoneInput,
  VerifyInput,
} from '@lethe/api';
import type { Principal, Role } from '../auth/principal.js';
import type { Logger } from '../lib/logger.js';
import type { RightsRequestRow } from './request-tables.js';
import type { Store } from '../store/store.js';
import type { GraphService } from '../datamap/graph-service.js';
import { RequestActions } from './request-actions.js';
import { RequestIntake, type RequestSource } from './request-intake.js';
import { RequestLifecycle } from './request-lifecycle.js';
import type { Completion, ErasureHook } from './request-progress.js';
import { RequestReader } from './request-reader.js';
import { TaskOverrides } from './task-overrides.js';
import type { RequestSettings } from './request-settings.js';
import type { RequestVault } from './request-vault.js';
import type { ServerSecrets } from '../auth/server-secrets.js';

/**
 * Rights requests from intake to the end (DESIGN.md §6): identifiers normalised, hashed and
 * sealed; a due date from the jurisdiction; duplicate and previously-erased checks; the optional
 * verification and approval steps; the plan turned into tasks, which `RequestRunner` carries
 * out. Every step is audited in the transaction that makes it.
 *
 * The work is done by `RequestIntake` (filing), `RequestLifecycle` (the status steps and the
 * start), `RequestActions` (deadlines, receipt, delivery, retries, tickets), `TaskOverrides`
 * (skip a task, mark it done by hand) and `RequestReader`;
 * this class is the one the routes, the CLI and the runner use.
 */
export class RequestService {
  readonly #erasureHooks: ErasureHook[] = [];
  readonly #reader: RequestReader;
  readonly #intake: RequestIntake;
  readonly #lifecycle: RequestLifecycle;
  readonly #actions: RequestActions;
  readonly #overrides: TaskOverrides;

  /** What a completed erasure also removes, in the same transaction (see `ErasureHook`); hooks add up. */
  whenErased(hook: ErasureHook): void {
    this.#erasureHooks.push(hook);
  }

  constructor(
    private readonly store: Store,
    graph: GraphService,
    vault: RequestVault,
    secrets: ServerSecrets,
    settings: RequestSettings,
    private readonly log: Logger,
    /** Called when tasks become due, so the runner starts at once instead of at its next tick. */
    wake: () => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    const completion: Completion = { vault, erasureHooks: this.#erasureHooks };
    this.#reader = new RequestReader(store, graph, vault, now);
    this.#lifecycle = new RequestLifecycle(
      store,
      graph,
      vault,
      settings,
      this.#reader,
      wake,
      now,
      completion,
    );
    this.#intake = new RequestIntake(store, vault, secrets, settings, this.#lifecycle, this.#reader, now);
    this.#actions = new RequestActions(store, vault, secrets, settings, this.#reader, wake, now, completion);
    this.#overrides = new TaskOverrides(store, vault, secrets, settings, this.#reader, now, completion);
  }

  // Intake ----------------------------------------------------------------------------------------

  create(principal: Principal, input: RequestInput, source: RequestSource = 'api'): Promise<RightsRequest> {
    return this.#intake.create(principal, input, source);
  }

  /** The inbound requests table as CSV: each good row becomes a request, each bad one is reported. */
  importCsv(principal: Principal, text: string): Promise<ImportResult> {
    return this.#intake.importCsv(principal, text);
  }

  private start(principal: Principal, row: RightsRequestRow): Promise<void> {
    return this.#lifecycle.start(principal, row);
  }

  /**
   * Starts requests that are approved but have no tasks: the start was interrupted (a crash
   * between approval and planning, or a planning error). Called by the runner on every tick, so
   * no request stays approved and idle.
   */
  async startInterrupted(): Promise<void> {
    const approved = await this.store.repository.requests.listRequests(
      { statuses: ['approved'] },
      { limit: 50 },
    );
    for (const row of approved) {
      // Give a start under way in this or another process a moment to finish first.
      if (this.now() - row.updated_at < 5_000) continue;
      // One request that cannot be planned must not hold up the others' tasks.
      await this.start({ id: row.actor_id, role: row.actor_role as Role }, row).catch((error: unknown) =>
        this.log.error({ err: error }, `rights request ${row.id} could not be started`),
      );
    }
  }

  // Steps taken by people ---------------------------------------------------------------------

  verifyIdentity(principal: Principal, id: string, input: VerifyInput): Promise<RightsRequest> {
    return this.#lifecycle.verifyIdentity(principal, id, input);
  }

  approve(principal: Principal, id: string): Promise<RightsRequest> {
    return this.#lifecycle.approve(principal, id);
  }

  deny(principal: Principal, id: string, reason: string): Promise<RightsRequest> {
    return this.#lifecycle.deny(principal, id, reason);
  }

  cancel(principal: Principal, id: string, reason: string): Promise<RightsRequest> {
    return this.#lifecycle.cancel(principal, id, reason);
  }

  extend(principal: Principal, id: string, reason: string): Promise<RightsRequest> {
    return this.#actions.extend(principal, id, reason);
  }

  /** Records that the person was told their request arrived (CCPA: within 10 business days). */
  confirmReceipt(principal: Principal, id: string): Promise<RightsRequest> {
    return this.#actions.confirmReceipt(principal, id);
  }

  /** The DSAR package reached the person: its findings are destroyed now, not at the window's end. */
  markDelivered(principal: Principal, id: string): Promise<RightsRequest> {
    return this.#actions.markDelivered(principal, id);
  }

  /** A failed task gets a fresh retry budget; the request runs again. */
  retryTask(principal: Principal, id: string, position: number): Promise<RightsRequest> {
    return this.#actions.retryTask(principal, id, position);
  }

  /** A DPO approves the erasure plan a task waits with (rows per table over the threshold). */
  approveErasure(principal: Principal, id: string, position: number): Promise<RightsRequest> {
    return this.#actions.approveErasure(principal, id, position);
  }

  /** A DPO skips a task with a reason: the request completes without that system, and says so. */
  skipTask(principal: Principal, id: string, position: number, reason: string): Promise<RightsRequest> {
    return this.#overrides.skipTask(principal, id, position, reason);
  }

  /** A DPO marks a task done by hand: its team handled it outside Lethe. */
  markTaskDone(
    principal: Principal,
    id: string,
    position: number,
    input: ManualDoneInput,
  ): Promise<RightsRequest> {
    return this.#overrides.markTaskDone(principal, id, position, input);
  }

  /** A person marks a ticket done: the owning team acted on the request in their system. */
  completeTicket(
    principal: Principal,
    id: string,
    position: number,
    input: TicketDoneInput,
  ): Promise<RightsRequest> {
    return this.#actions.completeTicket(principal, id, position, input);
  }

  // Reading -----------------------------------------------------------------------------------

  get(principal: Principal, id: string): Promise<RightsRequest> {
    return this.#reader.get(principal, id);
  }

  list(principal: Principal, query: RequestListQuery): Promise<RequestList> {
    return this.#reader.list(principal, query);
  }

  /** The plan as it stands: the tasks once started, else what starting now would ask. */
  plan(principal: Principal, id: string): Promise<RequestPlan> {
    return this.#reader.plan(principal, id);
  }

  /** Open tickets: for a service token, those of its own system. */
  tickets(
    principal: Principal,
  ): Promise<(RequestTask & { requestId: string; type: string; dueAt: string })[]> {
    return this.#reader.tickets(principal);
  }
}
