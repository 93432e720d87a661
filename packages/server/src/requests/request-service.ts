import { randomBytes } from 'node:crypto';
import type {
  Identifiers,
  ImportResult,
  RequestInput,
  RequestList,
  RequestPlan,
  RequestTask,
  RightsRequest,
  TicketDoneInput,
  VerifyInput,
} from '@lethe/api';
import { authorize, mayActForSystem, requireAllCategories } from '../auth/permissions.js';
import type { Principal, Role } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import {
  daysLeft,
  DeadlineError,
  dueAt,
  extendedDueAt,
  isOverdue,
  receiptConfirmationDueAt,
} from './deadlines.js';
import {
  describeIdentifiers,
  identifierHashes,
  IdentifierError,
  normaliseIdentifiers,
} from './identifiers.js';
import { parseRequestCsv, CsvFormatError } from './request-csv.js';
import {
  FINAL_STATUSES,
  isRequestStatus,
  movableFrom,
  nextStatus,
  OPEN_STATUSES,
  type RequestMove,
  type RequestStatus,
} from './request-status.js';
import { parseInstant, toIso } from '../lib/time.js';
import type { Repository } from '../store/repository.js';
import type { RequestTaskAttemptRow, RequestTaskRow, RightsRequestRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { actorOf, audit } from '../audit/audit-trail.js';
import type { GraphService } from '../datamap/graph-service.js';
import { planRequest } from './request-planner.js';
import { settleRequest, storeFoundRecords, type ErasureHook } from './request-progress.js';
import type { RequestSettings } from './request-settings.js';
import type { RequestVault } from './request-vault.js';
import type { ServerSecrets } from '../auth/server-secrets.js';

/** Where a request came from, kept with it. */
export type RequestSource = 'api' | 'csv' | 'cli';

/**
 * Rights requests from intake to the end (DESIGN.md §6): identifiers normalised, hashed and
 * sealed; a due date from the jurisdiction; duplicate and previously-erased checks; the optional
 * verification and approval steps; the plan turned into tasks, which `RequestRunner` carries
 * out. Every step is audited in the transaction that makes it.
 */
export class RequestService {
  #onErasure: ErasureHook | undefined;

  /** What a completed erasure also removes, in the same transaction (see `ErasureHook`). */
  whenErased(hook: ErasureHook): void {
    this.#onErasure = hook;
  }

  constructor(
    private readonly store: Store,
    private readonly graph: GraphService,
    private readonly vault: RequestVault,
    private readonly secrets: ServerSecrets,
    private readonly settings: RequestSettings,
    /** Called when tasks become due, so the runner starts at once instead of at its next tick. */
    private readonly wake: () => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  // Intake ----------------------------------------------------------------------------------------

  async create(
    principal: Principal,
    input: RequestInput,
    source: RequestSource = 'api',
  ): Promise<RightsRequest> {
    authorize(principal, 'requests:create');
    requireAllCategories(principal, 'A rights request spans every category');
    const identifiers = this.normalise(input.identifiers);
    const receivedAt = this.receivedAt(input.receivedAt);
    const id = await this.intake(principal, { ...input, identifiers }, receivedAt, source);
    await this.advance(principal, id);
    return this.get(principal, id);
  }

  /** The inbound requests table as CSV: each good row becomes a request, each bad one is reported. */
  async importCsv(principal: Principal, text: string): Promise<ImportResult> {
    authorize(principal, 'requests:create');
    requireAllCategories(principal, 'A rights request spans every category');
    let parsed;
    try {
      parsed = parseRequestCsv(text, {
        ...(this.settings.defaultCountry !== undefined
          ? { defaultCountry: this.settings.defaultCountry }
          : {}),
      });
    } catch (error) {
      if (error instanceof CsvFormatError) {
        throw new AppError('CSV_INVALID', error.message, { line: error.line });
      }
      throw error;
    }
    const result: ImportResult = { created: [], rejected: [...parsed.errors] };
    for (const { line, request } of parsed.rows) {
      try {
        const receivedAt = request.receivedAt ?? this.now();
        const id = await this.intake(principal, request, receivedAt, 'csv');
        await this.advance(principal, id);
        const row = await this.store.repository.requests.getRequest(id);
        result.created.push({ line, id, status: row?.status ?? 'received' });
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        result.rejected.push({ line, code: error.code, message: error.message });
      }
    }
    result.rejected.sort((a, b) => a.line - b.line);
    return result;
  }

  private normalise(identifiers: Identifiers): Identifiers {
    try {
      return normaliseIdentifiers(identifiers, {
        ...(this.settings.defaultCountry !== undefined
          ? { defaultCountry: this.settings.defaultCountry }
          : {}),
      });
    } catch (error) {
      if (error instanceof IdentifierError) {
        throw new AppError(error.code, error.message, { field: `identifiers.${error.field}` });
      }
      throw error;
    }
  }

  private receivedAt(text: string | undefined): number {
    if (text === undefined) return this.now();
    const at = parseInstant(text);
    if (at === undefined || at > this.now() + 5 * 60_000) {
      throw new AppError('INVALID_TIME', `receivedAt "${text}" is not an ISO 8601 instant in the past.`);
    }
    return at;
  }

  /** Stores a new request (status received) with its key, sealed identifiers and hashes. */
  private async intake(
    principal: Principal,
    input: Omit<RequestInput, 'receivedAt'>,
    receivedAt: number,
    source: RequestSource,
  ): Promise<string> {
    const hashKey = await this.secrets.key('identifiers');
    const hashes = identifierHashes(input.identifiers, hashKey);
    const id = input.id ?? newRequestId(receivedAt);
    const jurisdiction = input.jurisdiction ?? this.settings.defaultJurisdiction;
    const rule = this.settings.jurisdictions[jurisdiction];
    const now = this.now();
    await this.store.transaction(async (repository) => {
      const requests = repository.requests;
      if (await requests.getRequest(id)) {
        throw new AppError('REQUEST_EXISTS', `A request with id "${id}" exists already.`, { requestId: id });
      }
      const hashValues = hashes.map((hash) => hash.hash);
      const duplicate = await requests.openRequestWithHash(input.type, hashValues, OPEN_STATUSES);
      if (duplicate !== undefined) {
        throw new AppError(
          'DUPLICATE_REQUEST',
          `Request "${duplicate}" (${input.type}) for the same person is still open.`,
          { requestId: duplicate },
        );
      }
      const erased = await requests.suppressionFor(hashValues);
      const receiptDue = receiptConfirmationDueAt(receivedAt, rule);
      const row: RightsRequestRow = {
        id,
        type: input.type,
        strategy: input.strategy ?? 'exact',
        jurisdiction,
        status: 'received',
        source,
        identifiers_sealed: null,
        identifier_kinds: JSON.stringify(hashes.map((hash) => hash.semantic)),
        masked: describeIdentifiers(input.identifiers),
        received_at: receivedAt,
        due_at: dueAt(receivedAt, rule),
        extended_at: null,
        extended_by: null,
        extension_reason: null,
        receipt_due_at: receiptDue ?? null,
        receipt_confirmed_at: null,
        receipt_confirmed_by: null,
        verification_required: this.settings.requireVerification ? 1 : 0,
        verified_at: null,
        verified_by: null,
        verification_method: null,
        approval_required: this.settings.requireApproval ? 1 : 0,
        approved_at: null,
        approved_by: null,
        status_reason: null,
        status_changed_by: null,
        previously_erased_by: erased?.request_id ?? null,
        rows_found: 0,
        actor_id: principal.id,
        actor_role: principal.role,
        created_at: now,
        updated_at: now,
        started_at: null,
        completed_at: null,
        pii_expires_at: null,
        delivered_at: null,
        pii_destroyed_at: null,
      };
      await requests.insertRequest(row);
      const sealer = await this.vault.create(repository, id);
      await requests.updateRequest(id, { identifiers_sealed: sealer.seal(input.identifiers, 'identifiers') });
      await requests.insertHashes(
        hashes.map((hash) => ({ hash: hash.hash, request_id: id, semantic: hash.semantic })),
      );
      await audit(repository, principal, `request.create`, `request:${id}`);
    });
    return id;
  }

  /**
   * Takes every step that configuration does not ask a person to take: verification and
   * approval when not required, then the start (plan → tasks).
   */
  private async advance(principal: Principal, id: string): Promise<void> {
    const row = await this.require(this.store.repository, id);
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
  private async start(principal: Principal, row: RightsRequestRow): Promise<void> {
    const identifiers = await this.identifiersOf(row);
    const plan = await planRequest(this.store.repository, this.graph, identifiers);
    const now = this.now();
    await this.store.transaction(async (repository) => {
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
          created_at: now,
          updated_at: now,
        })),
      );
      await audit(repository, principal, 'request.start', `request:${row.id} tasks=${plan.length}`);
      // A request with nothing to ask is complete at once (the plan, empty, is its record).
      await settleRequest(repository, row.id, now, this.settings, this.#onErasure);
    });
    this.wake();
  }

  /**
   * Starts requests that are approved but have no tasks: the start was interrupted (a crash
   * between approval and planning, or a planning error). Called by the runner on every tick, so
   * no request stays approved and idle.
   */
  async startInterrupted(): Promise<void> {
    const approved = await this.store.repository.requests.listRequests({ statuses: ['approved'], limit: 50 });
    for (const row of approved) {
      // Give a start under way in this or another process a moment to finish first.
      if (this.now() - row.updated_at < 5_000) continue;
      // One request that cannot be planned must not hold up the others' tasks.
      await this.start({ id: row.actor_id, role: row.actor_role as Role }, row).catch((error: unknown) =>
        console.error(`rights request ${row.id} could not be started:`, error),
      );
    }
  }

  // Steps taken by people ---------------------------------------------------------------------

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
    return this.get(principal, id);
  }

  async approve(principal: Principal, id: string): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    await this.move(principal, id, 'approve', { approved_at: this.now(), approved_by: actorOf(principal) });
    await this.advance(principal, id);
    return this.get(principal, id);
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
    return this.get(principal, id);
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
    return this.get(principal, id);
  }

  /**
   * Applies `move` if the request's status allows it (compare-and-set on the status). A request
   * that ends without its work (denied, canceled) loses its personal data at once.
   */
  private async move(
    principal: Principal,
    id: string,
    move: RequestMove,
    changes: Partial<RightsRequestRow>,
    ends = false,
  ): Promise<void> {
    const now = this.now();
    await this.store.transaction(async (repository) => {
      const row = await this.require(repository, id);
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
          if (!['done', 'failed', 'canceled'].includes(task.state)) {
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

  async extend(principal: Principal, id: string, reason: string): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    await this.store.transaction(async (repository) => {
      const row = await this.require(repository, id);
      this.requireOpen(row, 'extend');
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
    return this.get(principal, id);
  }

  /** Records that the person was told their request arrived (CCPA: within 10 business days). */
  async confirmReceipt(principal: Principal, id: string): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    await this.store.transaction(async (repository) => {
      const row = await this.require(repository, id);
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
    return this.get(principal, id);
  }

  /** The DSAR package reached the person: its findings are destroyed now, not at the window's end. */
  async markDelivered(principal: Principal, id: string): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    await this.store.transaction(async (repository) => {
      const row = await this.require(repository, id);
      if (row.type !== 'dsar') throw new AppError('NOT_A_DSAR', `Request "${id}" is a ${row.type}.`);
      if (row.status !== 'completed') {
        throw new AppError('REQUEST_STATE_CONFLICT', `Request "${id}" is ${row.status}, not completed.`);
      }
      const now = this.now();
      await repository.requests.updateRequest(id, { delivered_at: now, updated_at: now });
      await repository.requests.destroyPii(id, now);
      await audit(repository, principal, 'request.delivered', `request:${id}`);
    });
    return this.get(principal, id);
  }

  /** A failed task gets a fresh retry budget; the request runs again. */
  async retryTask(principal: Principal, id: string, position: number): Promise<RightsRequest> {
    authorize(principal, 'requests:manage');
    requireAllCategories(principal, 'A rights request spans every category');
    const now = this.now();
    await this.store.transaction(async (repository) => {
      const row = await this.require(repository, id);
      const task = await this.requireTask(repository, id, position);
      if (task.state !== 'failed') {
        throw new AppError('TASK_STATE_CONFLICT', `Task ${position} is ${task.state}, not failed.`);
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
    return this.get(principal, id);
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
    await this.store.transaction(async (repository) => {
      const row = await this.require(repository, id);
      const task = await this.requireTask(repository, id, position);
      if (task.system !== null && !mayActForSystem(principal, task.system)) {
        throw new AppError('SYSTEM_NOT_PERMITTED', `The token may not act for system "${task.system}".`);
      }
      if (task.state !== 'waiting') {
        throw new AppError('TASK_STATE_CONFLICT', `Task ${position} is ${task.state}, not an open ticket.`);
      }
      const records = input.records ?? [];
      if (records.length > 0) {
        const sealer = await this.vault.open(repository, id);
        if (!sealer) throw new AppError('PII_DESTROYED', `Request "${id}" no longer holds its key.`);
        await storeFoundRecords(repository, sealer, hashKey, row, task, 0, clientRecords(task, records));
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
      await audit(repository, principal, 'request.ticket-done', `request:${id} task=${position}`);
      await settleRequest(repository, id, now, this.settings, this.#onErasure);
    });
    return this.view(principal, id);
  }

  // Reading -----------------------------------------------------------------------------------

  async get(principal: Principal, id: string): Promise<RightsRequest> {
    authorize(principal, 'requests:read');
    requireAllCategories(principal, 'A rights request spans every category');
    return this.view(principal, id);
  }

  /**
   * The request as `principal` may see it: identifiers only for admin and dpo while held; a
   * service (after completing its ticket) sees its own system's tasks only.
   */
  private async view(principal: Principal, id: string): Promise<RightsRequest> {
    const repository = this.store.repository;
    const row = await this.require(repository, id);
    const [tasks, attempts] = await Promise.all([
      repository.requests.listTasks(id),
      repository.requests.attemptsOf(id),
    ]);
    const view = requestRowToView(row, this.now());
    const showIdentifiers = principal.role === 'admin' || principal.role === 'dpo';
    if (showIdentifiers && row.identifiers_sealed !== null) {
      const identifiers = await this.identifiersOf(row).catch(() => undefined);
      if (identifiers) view.identifiers = identifiers;
    }
    view.tasks = tasks
      .filter((task) => task.system === null || mayActForSystem(principal, task.system))
      .map((task) => taskRowToView(task, attempts));
    return view;
  }

  async list(
    principal: Principal,
    query: { status?: string; overdue?: boolean; limit?: number; cursor?: string },
  ): Promise<RequestList> {
    authorize(principal, 'requests:read');
    requireAllCategories(principal, 'A rights request spans every category');
    const limit = query.limit ?? 100;
    const now = this.now();
    const statuses = query.status?.split(',').filter((status) => status !== '');
    for (const status of statuses ?? []) {
      if (!isRequestStatus(status)) {
        throw new AppError('VALIDATION_FAILED', `Unknown status "${status}".`, { field: 'status' });
      }
    }
    // Overdue means late and still owed an answer: only open statuses can be overdue.
    const isOpen = (status: string) => OPEN_STATUSES.includes(status as RequestStatus);
    const filter = query.overdue
      ? { statuses: (statuses ?? OPEN_STATUSES).filter(isOpen), dueBefore: now }
      : statuses !== undefined
        ? { statuses }
        : {};
    if (filter.statuses?.length === 0) return { items: [] };
    const rows = await this.store.repository.requests.listRequests({
      ...filter,
      limit: limit + 1,
      ...(query.cursor !== undefined ? { after: parseListCursor(query.cursor) } : {}),
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => requestRowToView(row, now)),
      ...(rows.length > limit && last ? { next: `${last.received_at}.${last.id}` } : {}),
    };
  }

  /** The plan as it stands: the tasks once started, else what starting now would ask. */
  async plan(principal: Principal, id: string): Promise<RequestPlan> {
    authorize(principal, 'requests:read');
    requireAllCategories(principal, 'A rights request spans every category');
    const row = await this.require(this.store.repository, id);
    const tasks = await this.store.repository.requests.listTasks(id);
    if (
      tasks.length > 0 ||
      row.status === 'in_progress' ||
      FINAL_STATUSES.includes(row.status as RequestStatus)
    ) {
      return {
        requestId: id,
        targets: tasks.map((task) => {
          const view = taskRowToView(task, []);
          return {
            target: view.target,
            targetKind: view.targetKind,
            protocol: view.protocol,
            reasons: view.reasons,
            ...(view.system !== undefined ? { system: view.system } : {}),
            ...(view.team !== undefined ? { team: view.team } : {}),
          };
        }),
      };
    }
    const identifiers = await this.identifiersOf(row);
    return { requestId: id, targets: await planRequest(this.store.repository, this.graph, identifiers) };
  }

  /** Open tickets: for a service token, those of its own system. */
  async tickets(
    principal: Principal,
  ): Promise<(RequestTask & { requestId: string; type: string; dueAt: string })[]> {
    authorize(principal, 'tickets:complete');
    const repository = this.store.repository;
    const tasks = await repository.requests.waitingTasks(
      principal.role === 'service' ? principal.system : undefined,
    );
    const result = [];
    for (const task of tasks) {
      const row = await repository.requests.getRequest(task.request_id);
      if (!row) continue;
      result.push({
        ...taskRowToView(task, []),
        requestId: row.id,
        type: row.type,
        dueAt: toIso(row.due_at),
      });
    }
    return result;
  }

  private async identifiersOf(row: RightsRequestRow): Promise<Identifiers> {
    const sealer = await this.vault.open(this.store.repository, row.id);
    if (!sealer || row.identifiers_sealed === null) {
      throw new AppError('PII_DESTROYED', `Request "${row.id}" no longer holds its identifiers.`);
    }
    return sealer.open<Identifiers>(row.identifiers_sealed, 'identifiers');
  }

  private async require(repository: Repository, id: string): Promise<RightsRequestRow> {
    const row = await repository.requests.getRequest(id);
    if (!row) throw new AppError('REQUEST_NOT_FOUND', `No rights request "${id}".`);
    return row;
  }

  private async requireTask(repository: Repository, id: string, position: number): Promise<RequestTaskRow> {
    const task = await repository.requests.getTask(taskId(id, position));
    if (!task) throw new AppError('TASK_NOT_FOUND', `Request "${id}" has no task ${position}.`);
    return task;
  }

  private requireOpen(row: RightsRequestRow, step: string): void {
    if (!OPEN_STATUSES.includes(row.status as RequestStatus)) {
      throw new AppError(
        'REQUEST_STATE_CONFLICT',
        `Request "${row.id}" is ${row.status}; it cannot ${step}.`,
      );
    }
  }
}

/** Task ids sort in plan order within a request: `<request>:<position, 4 digits>`. */
export function taskId(requestId: string, position: number): string {
  return `${requestId}:${String(position).padStart(4, '0')}`;
}

/** `req-20261123-<8 random hex>`: sortable by day, unguessable. */
function newRequestId(receivedAt: number): string {
  return `req-${toIso(receivedAt).slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
}

function parseListCursor(cursor: string): { receivedAt: number; id: string } {
  const dot = cursor.indexOf('.');
  const receivedAt = Number(cursor.slice(0, dot));
  if (dot <= 0 || !Number.isSafeInteger(receivedAt)) {
    throw new AppError('INVALID_CURSOR', 'The cursor is not one this server issued.');
  }
  return { receivedAt, id: cursor.slice(dot + 1) };
}

/** A ticket's records, as a rights client would have returned them. */
function clientRecords(task: RequestTaskRow, records: NonNullable<TicketDoneInput['records']>) {
  return records.map((record, index) => ({
    datasource: `${task.target}${record.dataset !== undefined ? `/${record.dataset}` : ''}`,
    pk: record.pk ?? String(index + 1),
    matchCategory: 'direct' as const,
    semantic: 'ticket',
    semanticValue: '',
    piiColumns: Object.keys(record.fields),
    values: record.fields,
  }));
}

const optionalIso = (value: number | null) => (value === null ? undefined : toIso(value));
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function requestRowToView(row: RightsRequestRow, now: number): RightsRequest {
  const open = OPEN_STATUSES.includes(row.status as RequestStatus);
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

export function taskRowToView(task: RequestTaskRow, attempts: readonly RequestTaskAttemptRow[]): RequestTask {
  return defined({
    task: task.position,
    target: task.target,
    targetKind: task.target_kind as RequestTask['targetKind'],
    system: task.system ?? undefined,
    team: task.team ?? undefined,
    protocol: task.protocol,
    reasons: JSON.parse(task.reasons) as string[],
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
