import type { RequestList, RequestListQuery, RequestPlan, RequestTask, RightsRequest } from '@lethe/api';
import { authorize, mayActForSystem, requireAllCategories } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { toIso } from '../lib/time.js';
import type { Store } from '../store/store.js';
import type { GraphService } from '../datamap/graph-service.js';
import { identifiersOf, requireRequest } from './request-lookup.js';
import { planRequest } from './request-planner.js';
import { listCursorOf, requestListQuery } from './request-list-query.js';
import { FINAL_STATUSES } from './request-status.js';
import type { RequestVault } from './request-vault.js';
import { requestRowToView, taskRowToView } from './request-view.js';
import { limitedRequestView, limitedTaskView } from './limited-request-view.js';
import { readReasons, visibleReasonTexts, type StoredReason } from './task-reasons.js';

/** Reading rights requests: one with its tasks, pages of them, the plan, the open tickets. */
export class RequestReader {
  constructor(
    private readonly store: Store,
    private readonly graph: GraphService,
    private readonly vault: RequestVault,
    private readonly now: () => number,
  ) {}

  async get(principal: Principal, id: string): Promise<RightsRequest> {
    authorize(principal, 'requests:read');
    requireAllCategories(principal, 'A rights request spans every category');
    return this.view(principal, id);
  }

  /**
   * The request as `principal` may see it: identifiers only for admin and dpo while held; a
   * service (after completing its ticket) sees its own system's tasks only; a category-limited
   * token (after completing its ticket) what its categories allow (`limited-request-view.ts`).
   */
  async view(principal: Principal, id: string): Promise<RightsRequest> {
    const repository = this.store.repository;
    const row = await requireRequest(repository, id);
    const [tasks, attempts] = await Promise.all([
      repository.requests.listTasks(id),
      repository.requests.attemptsOf(id),
    ]);
    const view = requestRowToView(row, this.now());
    const showIdentifiers = principal.role === 'admin' || principal.role === 'dpo';
    if (showIdentifiers && row.identifiers_sealed !== null) {
      const identifiers = await identifiersOf(this.vault, this.store.repository, row).catch(() => undefined);
      if (identifiers) view.identifiers = identifiers;
    }
    const readable = await this.reasonReader(principal);
    view.tasks = tasks
      .filter((task) => task.system === null || mayActForSystem(principal, task.system))
      .map((task) => taskRowToView(task, attempts, readable(readReasons(task.reasons))));
    return limitedRequestView(principal, view);
  }

  async list(principal: Principal, query: RequestListQuery): Promise<RequestList> {
    authorize(principal, 'requests:read');
    requireAllCategories(principal, 'A rights request spans every category');
    const now = this.now();
    const asked = requestListQuery(query, now);
    if (asked === undefined) return { items: [], total: 0 };
    const { filter, page } = asked;
    const requests = this.store.repository.requests;
    const [rows, total] = await Promise.all([
      requests.listRequests(filter, { ...page, limit: page.limit + 1 }),
      requests.countRequests(filter),
    ]);
    const shown = rows.slice(0, page.limit);
    const last = shown.at(-1);
    // The cursor continues the default order only; a sorted list pages with `offset`.
    const more =
      rows.length > page.limit &&
      last &&
      query.offset === undefined &&
      (query.sort ?? '-received') === '-received';
    return {
      items: shown.map((row) => requestRowToView(row, now)),
      total,
      ...(more ? { next: listCursorOf(last) } : {}),
    };
  }

  /** The plan as it stands: the tasks once started, else what starting now would ask. */
  async plan(principal: Principal, id: string): Promise<RequestPlan> {
    authorize(principal, 'requests:read');
    requireAllCategories(principal, 'A rights request spans every category');
    const row = await requireRequest(this.store.repository, id);
    const tasks = await this.store.repository.requests.listTasks(id);
    const readable = await this.reasonReader(principal);
    if (tasks.length > 0 || row.status === 'in_progress' || FINAL_STATUSES.includes(row.status)) {
      return {
        requestId: id,
        targets: tasks.map((task) => {
          const view = taskRowToView(task, [], readable(readReasons(task.reasons)));
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
    const identifiers = await identifiersOf(this.vault, this.store.repository, row);
    await this.store.freshAggregates();
    const targets = await planRequest(this.store.repository, this.graph, identifiers);
    return {
      requestId: id,
      targets: targets.map((target) => ({ ...target, reasons: readable(target.reasons) })),
    };
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
    const readable = await this.reasonReader(principal);
    const result = [];
    for (const task of tasks) {
      const row = await repository.requests.getRequest(task.request_id);
      if (!row) continue;
      const view = limitedTaskView(principal, taskRowToView(task, [], readable(readReasons(task.reasons))));
      result.push({
        ...view,
        requestId: row.id,
        type: row.type,
        dueAt: toIso(row.due_at),
      });
    }
    return result;
  }

  /**
   * Renders reasons as `principal` may read them: a category-limited token only the fields and
   * categories it sees (`task-reasons.ts`), for which the fields' categories are loaded.
   */
  private async reasonReader(principal: Principal): Promise<(reasons: readonly StoredReason[]) => string[]> {
    const fieldCategories = new Map<string, string[]>();
    if (principal.categories !== undefined) {
      for (const field of (await this.store.repository.datamap.loadRows()).fields) {
        fieldCategories.set(field.field, JSON.parse(field.categories) as string[]);
      }
    }
    return (reasons) => visibleReasonTexts(principal, reasons, fieldCategories);
  }
}
