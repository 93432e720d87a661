import { processEnvironment } from '../config/process-environment.js';
import { backoffDelay, type ConnectorInput, type Identifiers } from '@lethe/api';
import type { Principal, Role } from '../auth/principal.js';
import { RightsClientError, type RightsClientTransport } from './rights-clients/rights-client.js';
import { ErasureApprovalNeeded, runSqlConnector, SqlConnectorError } from './sql-connectors/sql-connector.js';
import type { StoredErasurePlan } from './erasure-plan.js';
import type { FoundRecord } from './found-record.js';
import type { RightsClientRow } from '../datamap/datamap-tables.js';
import type { RequestTaskRow, RightsRequestRow } from './request-tables.js';
import type { Store } from '../store/store.js';
import { settleRequest, storeFoundRecords, type Completion, type ErasureHook } from './request-progress.js';
import type { RequestSettings } from './request-settings.js';
import type { RequestVault } from './request-vault.js';
import type { ServerSecrets } from '../auth/server-secrets.js';
import type { Logger } from '../lib/logger.js';
import { audit } from '../audit/audit-trail.js';
import { LETHE_ITSELF } from '../auth/principal.js';
import { holdOnTask } from './legal-hold-check.js';
import type { TaskReason } from './task-reasons.js';

/** Makes the transport for one rights client (HTTP or gRPC). */
export type TransportFactory = (client: RightsClientRow) => RightsClientTransport;

/** What one run of a task achieved. */
interface TaskOutcome {
  readonly rowsFound: number;
  readonly rowsChanged: number;
  /** A ticket was opened: the task waits for a person. */
  readonly waiting?: boolean;
  /** A connector erasure's plan (rows per table); with `held` tables the task waits for a DPO. */
  readonly plan?: StoredErasurePlan;
  /** The legal hold that kept this erasure from running: nothing was asked or changed. */
  readonly hold?: string;
}

/** Extra time on a task's lease beyond its call timeout before another run may take it over. */
const LEASE_MARGIN_MS = 30_000;

/**
 * Carries out the tasks of running requests. Each tick claims due tasks (compare-and-set in the
 * store, so several nodes can share the work) and runs them: a rights client call, a SQL
 * connector run, or opening a ticket. Every attempt is recorded with its outcome; a retryable
 * failure is tried again after a backoff until the budget is spent, then the task is `failed`
 * with the reason. A task whose process died keeps its lease only until the lease ends: the
 * next tick takes it up again, so no request is left stuck by a restart.
 */
export class RequestRunner {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private readonly inFlight = new Set<string>();
  /** Starts approved requests whose start was interrupted (set by the requests service). */
  private startApproved: () => Promise<void> = async () => {};

  readonly #erasureHooks: ErasureHook[] = [];

  /** What a completed erasure also removes, in the same transaction (see `ErasureHook`); hooks add up. */
  whenErased(hook: ErasureHook): void {
    this.#erasureHooks.push(hook);
  }

  get #completion(): Completion {
    return { vault: this.vault, erasureHooks: this.#erasureHooks };
  }

  constructor(
    private readonly store: Store,
    private readonly vault: RequestVault,
    private readonly secrets: ServerSecrets,
    private readonly settings: RequestSettings,
    private readonly transports: TransportFactory,
    private readonly log: Logger,
    private readonly env: Readonly<Record<string, string | undefined>> = processEnvironment(),
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Ticks every `intervalMs` until `stop`. On a store no other process shares, every task still
   * `running` was left by this process's previous life: it is taken up at once, not when its lease
   * ends. A shared store waits for the lease, since another node may be running the task.
   */
  start(intervalMs: number): void {
    this.timer ??= setInterval(() => this.wake(), intervalMs);
    this.timer.unref();
    const orphans = this.store.capabilities.shared
      ? Promise.resolve()
      : this.store.transaction((repository) => repository.requests.expireLeases());
    void orphans.then(
      () => this.wake(),
      (error: unknown) => this.log.error({ err: error }, 'rights request runner'),
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** Wires the requests service's recovery of approved-but-unstarted requests into each tick. */
  recoverStartsWith(startApproved: () => Promise<void>): void {
    this.startApproved = startApproved;
  }

  /** Runs a tick now (or right after the one under way). Errors are logged, never thrown. */
  wake(): void {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.pass()
      .catch((error: unknown) => this.log.error({ err: error }, 'rights request runner'))
      .finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /**
   * Runs a pass and resolves once every task that was due has run. A pass under way (a wake's)
   * holds the tasks it took, which this pass would skip: it is awaited first, or a caller could
   * see them still `running` after its tick returned.
   */
  async tick(): Promise<void> {
    while (this.ticking) await this.ticking;
    await this.pass();
  }

  /**
   * One pass: start approved requests left unstarted, destroy expired DSAR findings, then run
   * every due task (up to the concurrency at a time).
   */
  private async pass(): Promise<void> {
    await this.startApproved();
    const now = this.now();
    for (const request of await this.store.repository.requests.requestsWithExpiredPii(now)) {
      await this.store.transaction((repository) => repository.requests.destroyPii(request.id, now));
    }
    // A pool, not waves: as soon as one task ends the next due one starts, so a slow client
    // holds up only its own slot.
    const running = new Set<Promise<void>>();
    for (;;) {
      const free = this.settings.concurrency - running.size;
      const due =
        free > 0
          ? await this.store.repository.requests.dueTasks(this.now(), this.settings.concurrency * 2)
          : [];
      const fresh = due.filter((task) => !this.inFlight.has(task.id)).slice(0, Math.max(0, free));
      for (const task of fresh) {
        const run: Promise<void> = this.runTask(task).finally(() => running.delete(run));
        running.add(run);
      }
      if (running.size === 0) return;
      if (fresh.length === 0 || running.size >= this.settings.concurrency) await Promise.race(running);
    }
  }

  private async runTask(task: RequestTaskRow): Promise<void> {
    // Marked before the claim, so the next look for due tasks does not pick it again meanwhile.
    this.inFlight.add(task.id);
    try {
      const claimed = await this.claim(task);
      if (!claimed) return;
      const attempt = claimed.attempts;
      try {
        await this.finish(claimed, attempt, await this.execute(claimed));
      } catch (error) {
        await this.failAttempt(claimed, attempt, error);
      }
    } finally {
      this.inFlight.delete(task.id);
    }
  }

  /** Takes the task if nobody else did: state and attempt count must still be what we read. */
  private async claim(task: RequestTaskRow): Promise<RequestTaskRow | undefined> {
    const now = this.now();
    return this.store.transaction(async (repository) => {
      const attempts = task.attempts + 1;
      const changes = {
        state: 'running' as const,
        attempts,
        lease_until: now + this.settings.callTimeoutMs + LEASE_MARGIN_MS,
        started_at: task.started_at ?? now,
        updated_at: now,
      };
      if (
        !(await repository.requests.updateTask(task.id, changes, {
          state: task.state,
          attempts: task.attempts,
        }))
      ) {
        return undefined;
      }
      if (task.state === 'running') {
        // The process running the previous attempt stopped before it finished.
        await repository.requests.finishAttempt(task.id, task.attempts, {
          finished_at: now,
          outcome: 'interrupted',
          error: 'the server stopped during the attempt; taken up again',
        });
      }
      await repository.requests.insertAttempt({
        task_id: task.id,
        attempt: attempts,
        started_at: now,
        finished_at: null,
        outcome: null,
        error: null,
      });
      await repository.requests.clearRecords(task.id);
      return { ...task, ...changes };
    });
  }

  private async execute(task: RequestTaskRow): Promise<TaskOutcome> {
    const repository = this.store.repository;
    const request = await repository.requests.getRequest(task.request_id);
    const ticket: TaskOutcome = { rowsFound: 0, rowsChanged: 0, waiting: true };
    if (task.protocol === 'ticket' && request?.type === 'dsar') return ticket;
    const sealer = request ? await this.vault.open(repository, request.id) : undefined;
    if (!request || !sealer || request.identifiers_sealed === null) {
      throw new RightsClientError('the request no longer holds its identifiers', false);
    }
    const identifiers = sealer.open<Identifiers>(request.identifiers_sealed, 'identifiers');
    if (request.type !== 'dsar') {
      // Read now, not at planning: a hold placed after filing stops the task, one released lets it run.
      const hold = await holdOnTask(repository, task, identifiers.subject);
      if (hold) return { rowsFound: 0, rowsChanged: 0, hold: hold.name };
    }
    if (task.protocol === 'ticket') return ticket;
    const hashKey = await this.secrets.key('identifiers');
    let seq = 0;
    const save = async (records: FoundRecord[]) => {
      const start = seq;
      seq += records.length;
      await this.store.transaction((tx) =>
        storeFoundRecords(tx, sealer, hashKey, request, task, start, records),
      );
    };
    if (task.target_kind === 'connector') return this.runConnector(task, request, identifiers, save);
    return this.callClient(task, request, identifiers, save);
  }

  private async runConnector(
    task: RequestTaskRow,
    request: RightsRequestRow,
    identifiers: Identifiers,
    save: (records: FoundRecord[]) => Promise<void>,
  ): Promise<TaskOutcome> {
    const row = await this.store.repository.requests.getConnector(task.target);
    if (!row) throw new SqlConnectorError(`connector "${task.target}" was removed`, false);
    const config: ConnectorInput = {
      type: row.type as ConnectorInput['type'],
      urlEnv: row.url_env,
      tables: JSON.parse(row.tables) as ConnectorInput['tables'],
    };
    const url = this.env[row.url_env];
    if (url === undefined || url === '') {
      throw new SqlConnectorError(`environment variable ${row.url_env} is not set on this server`, false);
    }
    const threshold = this.settings.erasureApprovalRows;
    const approved =
      task.approved_plan === null ? undefined : (JSON.parse(task.approved_plan) as Record<string, number>);
    let outcome;
    try {
      outcome = await runSqlConnector(
        row.name,
        config,
        url,
        {
          type: request.type,
          strategy: request.strategy,
          identifiers,
          ...(request.categories === null ? {} : { categories: JSON.parse(request.categories) as string[] }),
        },
        save,
        {
          statementTimeoutMs: this.settings.callTimeoutMs,
          maskKey: await this.secrets.key('masking'),
          approval: { threshold, approved },
        },
      );
    } catch (error) {
      // Rolled back before anything was reported or changed: the plan waits for a DPO.
      if (!(error instanceof ErasureApprovalNeeded)) throw error;
      return { rowsFound: 0, rowsChanged: 0, plan: { rows: error.counts, threshold, held: [...error.held] } };
    }
    return {
      rowsFound: outcome.rowsFound,
      rowsChanged: outcome.rowsDeleted + outcome.rowsNulled,
      ...(outcome.erasureCounts ? { plan: { rows: outcome.erasureCounts, threshold, held: [] } } : {}),
    };
  }

  private async callClient(
    task: RequestTaskRow,
    request: RightsRequestRow,
    identifiers: Identifiers,
    save: (records: FoundRecord[]) => Promise<void>,
  ): Promise<TaskOutcome> {
    const client = await this.store.repository.datamap.getClient(task.target);
    if (!client) throw new RightsClientError(`rights client "${task.target}" was removed`, false);
    const transport = this.transports(client);
    try {
      const call = {
        requestId: request.id,
        taskId: task.id,
        identifiers,
        actor: actorOfRequest(request),
        timeoutMs: this.settings.callTimeoutMs,
        ...(request.categories === null ? {} : { categories: JSON.parse(request.categories) as string[] }),
      };
      if (request.type === 'dsar') {
        const answer = await transport.get(call);
        const kinds = JSON.parse(request.identifier_kinds) as string[];
        await save(
          answer.records.map((record, index) => ({
            datasource: `${client.name}${record.dataset !== undefined && record.dataset !== '' ? `/${record.dataset}` : ''}`,
            pk: record.pk ?? String(index + 1),
            matchCategory: 'direct',
            semantic: kinds.join('+'),
            semanticValue: '',
            piiColumns: Object.keys(record.fields),
            values: record.fields,
          })),
        );
        return { rowsFound: answer.records.length, rowsChanged: 0 };
      }
      const answer = await transport.delete(call, request.type === 'delete' ? 'rows' : 'pii');
      return { rowsFound: answer.deleted, rowsChanged: answer.deleted };
    } finally {
      transport.close();
    }
  }

  private async finish(task: RequestTaskRow, attempt: number, outcome: TaskOutcome): Promise<void> {
    const now = this.now();
    const held = (outcome.plan?.held.length ?? 0) > 0;
    const { hold } = outcome;
    await this.store.transaction(
      async (repository) => {
        await repository.requests.finishAttempt(task.id, attempt, {
          finished_at: now,
          outcome: hold ? 'legal-hold' : held ? 'approval-needed' : outcome.waiting ? 'ticket-opened' : 'ok',
          error: null,
        });
        const reasons = withHoldReason(task.reasons, hold);
        await repository.requests.updateTask(
          task.id,
          {
            state: hold ? 'held' : held ? 'waiting_approval' : outcome.waiting ? 'waiting' : 'done',
            ...(reasons !== task.reasons ? { reasons } : {}),
            ...(outcome.plan ? { erasure_plan: JSON.stringify(outcome.plan) } : {}),
            lease_until: null,
            next_attempt_at: null,
            last_error: null,
            rows_found: outcome.rowsFound,
            rows_changed: outcome.rowsChanged,
            ...(outcome.waiting || held || hold ? {} : { completed_at: now }),
            updated_at: now,
          },
          { state: 'running', attempts: attempt },
        );
        if (hold) {
          await audit(
            repository,
            LETHE_ITSELF,
            'request.task-held',
            `request:${task.request_id} task=${task.position} hold:${hold}`,
          );
        }
        await settleRequest(repository, task.request_id, now, this.settings, this.#completion);
      },
      { freshAggregates: true },
    );
  }

  private async failAttempt(task: RequestTaskRow, attempt: number, error: unknown): Promise<void> {
    const known = error instanceof RightsClientError || error instanceof SqlConnectorError;
    const retryable = known && error.retryable;
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
    if (!known) this.log.error({ err: error }, `rights request task ${task.id} failed unexpectedly`);
    const budgetLeft = attempt - task.retry_base < this.settings.maxAttempts;
    const now = this.now();
    await this.store.transaction(
      async (repository) => {
        const again = retryable && budgetLeft;
        await repository.requests.finishAttempt(task.id, attempt, {
          finished_at: now,
          outcome: again ? 'retry' : 'failed',
          error: message,
        });
        await repository.requests.updateTask(
          task.id,
          {
            state: again ? 'retrying' : 'failed',
            lease_until: null,
            last_error: message,
            next_attempt_at: again
              ? now +
                backoffDelay(attempt - task.retry_base, {
                  baseMs: this.settings.retryBaseMs,
                  maxMs: this.settings.retryMaxMs,
                  jitter: 'equal',
                })
              : null,
            updated_at: now,
          },
          { state: 'running', attempts: attempt },
        );
        if (!again) await settleRequest(repository, task.request_id, now, this.settings, this.#completion);
      },
      { freshAggregates: true },
    );
  }
}

/**
 * The task's stored reasons with the legal hold that kept it (or none once it ran): the reason
 * says why the task did not erase, and goes when a retry after the release erases after all.
 */
function withHoldReason(json: string, hold: string | undefined): string {
  // Read raw, not through readReasons: other stored items (old plain strings) are kept as they are.
  let items: unknown[];
  try {
    const parsed: unknown = JSON.parse(json);
    items = Array.isArray(parsed) ? parsed : [json];
  } catch {
    items = [json];
  }
  const isHold = (item: unknown) =>
    typeof item === 'object' && item !== null && (item as { kind?: unknown }).kind === 'legal-hold';
  const kept = items.filter((item) => !isHold(item));
  if (hold === undefined && kept.length === items.length) return json;
  const reasons: TaskReason[] = hold === undefined ? [] : [{ kind: 'legal-hold', hold }];
  return JSON.stringify([...kept, ...reasons]);
}

/** The person who set the request going, as the actor of its outgoing calls. */
function actorOfRequest(request: RightsRequestRow): Principal {
  return { id: request.actor_id, role: request.actor_role as Role };
}
