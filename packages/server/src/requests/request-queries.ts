import type { RequestStatus, RequestType, TaskState } from '@lethe/api';
import type { Kysely } from 'kysely';
import type {
  ConnectorRow,
  RequestIdentifierHashRow,
  RequestRecordRow,
  RequestTaskAttemptRow,
  RequestTaskRow,
  RightsRequestRow,
  SuppressionHitRow,
  SuppressionRow,
} from './request-tables.js';
import type { Database } from '../store/schema.js';

/** Columns a list of requests may be ordered by; ties are broken by id. */
export type RequestOrderColumn = 'due_at' | 'created_at' | 'received_at' | 'status';

export interface RequestListFilter {
  readonly statuses?: readonly RequestStatus[];
  readonly types?: readonly RequestType[];
  /** Only those whose id starts with this (case-sensitive). */
  readonly idPrefix?: string;
  /** Only those whose due date is before this instant. */
  readonly dueBefore?: number;
  /** Only those whose due date is at or after this instant. */
  readonly dueAfter?: number;
}

export interface RequestListPage {
  /** Default: received_at, newest first. */
  readonly order?: { readonly column: RequestOrderColumn; readonly descending: boolean };
  readonly limit: number;
  readonly offset?: number;
  /** Keyset on the default order: requests received before this one (received_at, id). */
  readonly after?: { readonly receivedAt: number; readonly id: string };
}

/**
 * Rights requests, their tasks, attempts and found records, the suppression list and SQL
 * connectors. Reached as `repository.requests`, inside the repository's transaction.
 */
export class RequestQueries {
  constructor(private readonly db: Kysely<Database>) {}

  // Requests --------------------------------------------------------------------------------

  async insertRequest(row: RightsRequestRow): Promise<void> {
    await this.db.insertInto('rights_requests').values(row).execute();
  }

  getRequest(id: string): Promise<RightsRequestRow | undefined> {
    return this.db.selectFrom('rights_requests').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Updates `id` if its status is still `expectedStatus` (when given); false when it was not. */
  async updateRequest(
    id: string,
    changes: Partial<Omit<RightsRequestRow, 'id'>>,
    expectedStatus?: RequestStatus,
  ): Promise<boolean> {
    let query = this.db.updateTable('rights_requests').set(changes).where('id', '=', id);
    if (expectedStatus !== undefined) query = query.where('status', '=', expectedStatus);
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  listRequests(filter: RequestListFilter, page: RequestListPage): Promise<RightsRequestRow[]> {
    const { column, descending } = page.order ?? { column: 'received_at', descending: true };
    const direction = descending ? 'desc' : 'asc';
    let query = this.filteredRequests(filter).selectAll();
    if (page.after) {
      const { receivedAt, id } = page.after;
      query = query.where((eb) =>
        eb.or([
          eb('received_at', '<', receivedAt),
          eb.and([eb('received_at', '=', receivedAt), eb('id', '<', id)]),
        ]),
      );
    }
    return query
      .orderBy(column, direction)
      .orderBy('id', direction)
      .limit(page.limit)
      .offset(page.offset ?? 0)
      .execute();
  }

  async countRequests(filter: RequestListFilter): Promise<number> {
    const row = await this.filteredRequests(filter)
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  private filteredRequests(filter: RequestListFilter) {
    let query = this.db.selectFrom('rights_requests');
    if (filter.statuses) query = query.where('status', 'in', [...filter.statuses]);
    if (filter.types) query = query.where('type', 'in', [...filter.types]);
    if (filter.dueBefore !== undefined) query = query.where('due_at', '<', filter.dueBefore);
    if (filter.dueAfter !== undefined) query = query.where('due_at', '>=', filter.dueAfter);
    const prefix = filter.idPrefix;
    if (prefix !== undefined) {
      // The lower bound lets the primary key narrow the scan; substr keeps the match exact on
      // both backends (LIKE folds case in SQLite and treats % and _ as wildcards); it counts
      // characters, as the code points here do.
      query = query
        .where('id', '>=', prefix)
        .where((eb) => eb(eb.fn('substr', ['id', eb.lit(1), eb.lit([...prefix].length)]), '=', prefix));
    }
    return query;
  }

  /** Requests whose DSAR findings are past their delivery window and still readable. */
  requestsWithExpiredPii(now: number): Promise<RightsRequestRow[]> {
    return this.db
      .selectFrom('rights_requests')
      .selectAll()
      .where('pii_expires_at', '<=', now)
      .where('pii_destroyed_at', 'is', null)
      .execute();
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('rights_requests')
      .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  }

  // The request key -----------------------------------------------------------------------------

  async saveKey(requestId: string, wrappedKey: string): Promise<void> {
    await this.db
      .insertInto('request_keys')
      .values({ request_id: requestId, wrapped_key: wrappedKey })
      .execute();
  }

  async getKey(requestId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('request_keys')
      .select('wrapped_key')
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    return row?.wrapped_key;
  }

  /**
   * Destroys the request's key and every value sealed under it. The key's row is overwritten
   * before it is deleted so that its bytes do not linger in the page until it is reused.
   */
  async destroyPii(requestId: string, at: number): Promise<void> {
    await this.db
      .updateTable('request_keys')
      .set({ wrapped_key: '' })
      .where('request_id', '=', requestId)
      .execute();
    await this.db.deleteFrom('request_keys').where('request_id', '=', requestId).execute();
    await this.db
      .updateTable('request_records')
      .set({ sealed: null })
      .where('request_id', '=', requestId)
      .execute();
    await this.db
      .updateTable('rights_requests')
      .set({
        identifiers_sealed: null,
        knowledge_sealed: null,
        pii_destroyed_at: at,
        pii_expires_at: null,
        updated_at: at,
      })
      .where('id', '=', requestId)
      .execute();
  }

  // Identifier hashes and the suppression list -----------------------------------------------

  async insertHashes(rows: readonly RequestIdentifierHashRow[]): Promise<void> {
    if (rows.length > 0)
      await this.db
        .insertInto('request_identifier_hashes')
        .values([...rows])
        .execute();
  }

  hashesOf(requestId: string): Promise<RequestIdentifierHashRow[]> {
    return this.db
      .selectFrom('request_identifier_hashes')
      .selectAll()
      .where('request_id', '=', requestId)
      .execute();
  }

  /** An open request of `type` that shares an identifier hash, if any. */
  async openRequestWithHash(
    type: RequestType,
    hashes: readonly string[],
    openStatuses: readonly RequestStatus[],
  ): Promise<string | undefined> {
    if (hashes.length === 0) return undefined;
    const row = await this.db
      .selectFrom('request_identifier_hashes as h')
      .innerJoin('rights_requests as r', 'r.id', 'h.request_id')
      .select('r.id')
      .where('h.hash', 'in', [...hashes])
      .where('r.type', '=', type)
      .where('r.status', 'in', [...openStatuses])
      .orderBy('r.received_at')
      .executeTakeFirst();
    return row?.id;
  }

  async suppressionFor(hashes: readonly string[]): Promise<SuppressionRow | undefined> {
    if (hashes.length === 0) return undefined;
    return this.db
      .selectFrom('suppressions')
      .selectAll()
      .where('hash', 'in', [...hashes])
      .orderBy('added_at')
      .executeTakeFirst();
  }

  async addSuppressions(rows: readonly SuppressionRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('suppressions')
      .values([...rows])
      .onConflict((oc) => oc.column('hash').doNothing())
      .execute();
  }

  /** Records telemetry that touched suppressed people, counting repeats. */
  async recordSuppressionHits(rows: readonly SuppressionHitRow[]): Promise<void> {
    for (const row of rows) {
      await this.db
        .insertInto('suppression_hits')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['request_id', 'subject', 'system']).doUpdateSet((eb) => ({
            last_seen_at: eb.ref('excluded.last_seen_at'),
            count: eb(eb.ref('suppression_hits.count'), '+', eb.ref('excluded.count')),
          })),
        )
        .execute();
    }
  }

  suppressionHits(limit: number): Promise<SuppressionHitRow[]> {
    return this.db
      .selectFrom('suppression_hits')
      .selectAll()
      .orderBy('last_seen_at', 'desc')
      .limit(limit)
      .execute();
  }

  /** The suppression list: hash → the erasure request that put it there. */
  async suppressionList(): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('suppressions').select(['hash', 'request_id']).execute();
    return new Map(rows.map((row) => [row.hash, row.request_id]));
  }

  // Tasks -------------------------------------------------------------------------------------

  async insertTasks(rows: readonly RequestTaskRow[]): Promise<void> {
    if (rows.length > 0)
      await this.db
        .insertInto('request_tasks')
        .values([...rows])
        .execute();
  }

  listTasks(requestId: string): Promise<RequestTaskRow[]> {
    return this.db
      .selectFrom('request_tasks')
      .selectAll()
      .where('request_id', '=', requestId)
      .orderBy('position')
      .execute();
  }

  getTask(id: string): Promise<RequestTaskRow | undefined> {
    return this.db.selectFrom('request_tasks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Updates a task if it is still in `expected` (state and attempts): the compare-and-set that
   * lets several nodes share the work without taking the same task twice.
   */
  async updateTask(
    id: string,
    changes: Partial<Omit<RequestTaskRow, 'id' | 'request_id'>>,
    expected?: { readonly state: TaskState; readonly attempts?: number },
  ): Promise<boolean> {
    let query = this.db.updateTable('request_tasks').set(changes).where('id', '=', id);
    if (expected) {
      query = query.where('state', '=', expected.state);
      if (expected.attempts !== undefined) query = query.where('attempts', '=', expected.attempts);
    }
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Tasks of running requests that are due: waiting to (re)try and due, or running with a lease
   * that has passed (the process running them stopped).
   */
  dueTasks(now: number, limit: number): Promise<RequestTaskRow[]> {
    return this.db
      .selectFrom('request_tasks as t')
      .innerJoin('rights_requests as r', 'r.id', 't.request_id')
      .selectAll('t')
      .where('r.status', '=', 'in_progress')
      .where((eb) =>
        eb.or([
          eb.and([
            eb('t.state', 'in', ['pending', 'retrying']),
            eb.or([eb('t.next_attempt_at', 'is', null), eb('t.next_attempt_at', '<=', now)]),
          ]),
          eb.and([eb('t.state', '=', 'running'), eb('t.lease_until', '<', now)]),
        ]),
      )
      .orderBy('t.next_attempt_at')
      .limit(limit)
      .execute();
  }

  /** Ends the lease of every running task, so that the next tick takes it up again. */
  async expireLeases(): Promise<void> {
    await this.db
      .updateTable('request_tasks')
      .set({ lease_until: 0 })
      .where('state', '=', 'running')
      .execute();
  }

  /** Open tickets (waiting tasks), optionally for one system, oldest first. */
  waitingTasks(system?: string): Promise<RequestTaskRow[]> {
    let query = this.db.selectFrom('request_tasks').selectAll().where('state', '=', 'waiting');
    if (system !== undefined) query = query.where('system', '=', system);
    return query.orderBy('created_at').execute();
  }

  // Attempts ----------------------------------------------------------------------------------

  async insertAttempt(row: RequestTaskAttemptRow): Promise<void> {
    await this.db.insertInto('request_task_attempts').values(row).execute();
  }

  async finishAttempt(
    taskId: string,
    attempt: number,
    changes: Pick<RequestTaskAttemptRow, 'finished_at' | 'outcome' | 'error'>,
  ): Promise<void> {
    await this.db
      .updateTable('request_task_attempts')
      .set(changes)
      .where('task_id', '=', taskId)
      .where('attempt', '=', attempt)
      .execute();
  }

  attemptsOf(requestId: string): Promise<RequestTaskAttemptRow[]> {
    return this.db
      .selectFrom('request_task_attempts as a')
      .innerJoin('request_tasks as t', 't.id', 'a.task_id')
      .selectAll('a')
      .where('t.request_id', '=', requestId)
      .orderBy('a.task_id')
      .orderBy('a.attempt')
      .execute();
  }

  // Found records -----------------------------------------------------------------------------

  /** A new attempt starts from nothing: what an interrupted one wrote is dropped. */
  async clearRecords(taskId: string): Promise<void> {
    await this.db.deleteFrom('request_records').where('task_id', '=', taskId).execute();
  }

  async insertRecords(rows: readonly RequestRecordRow[]): Promise<void> {
    // Bounded statements: SQLite allows 32k parameters, each row has 10.
    for (let start = 0; start < rows.length; start += 500) {
      await this.db
        .insertInto('request_records')
        .values(rows.slice(start, start + 500))
        .execute();
    }
  }

  /** One page of a request's records in report order (task position, then seq). */
  recordsPage(
    requestId: string,
    after: { readonly taskId: string; readonly seq: number } | undefined,
    limit: number,
  ): Promise<RequestRecordRow[]> {
    let query = this.db.selectFrom('request_records').selectAll().where('request_id', '=', requestId);
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('task_id', '>', after.taskId),
          eb.and([eb('task_id', '=', after.taskId), eb('seq', '>', after.seq)]),
        ]),
      );
    }
    return query.orderBy('task_id').orderBy('seq').limit(limit).execute();
  }

  // SQL connectors ----------------------------------------------------------------------------

  listConnectors(): Promise<ConnectorRow[]> {
    return this.db.selectFrom('connectors').selectAll().orderBy('name').execute();
  }

  getConnector(name: string): Promise<ConnectorRow | undefined> {
    return this.db.selectFrom('connectors').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async saveConnector(row: ConnectorRow): Promise<void> {
    const { name: _name, created_at: _created, ...changes } = row;
    await this.db
      .insertInto('connectors')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet(changes))
      .execute();
  }

  async deleteConnector(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('connectors').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
