import type { RightsRequest } from '@lethe/api';
import { clientName, startClientsProcess, type ClientsProcess } from './requests-clients.js';
import { api, fileAndWait, type BenchLethe } from './requests-lethe.js';

/**
 * The fan-out half of `bench:requests`: `clients` HTTP rights clients on loopback in a process of
 * their own (the test suite's fixture: a real node:http server that verifies Lethe's call tokens
 * against its JWKS, waits `latencyMs`, then answers by the contract), one system per client in
 * Lethe's data map, and the naive loop that calls the same number of clients one after another.
 */

export type FanoutSetup = ClientsProcess;

export function fanoutEmail(kind: string, run: number): string {
  return `fanout-${kind}-${run}@example.com`;
}

export async function setUpFanout(
  server: BenchLethe,
  clients: number,
  latencyMs: number,
  emails: readonly string[],
): Promise<FanoutSetup> {
  const jwksUrl = `${server.url}/.well-known/jwks.json`;
  const setup = await startClientsProcess({ count: clients, latencyMs, jwksUrl, emails });
  try {
    const email = [{ name: 'email', categories: ['user.contact.email'] }];
    for (let c = 0; c < clients; c++) {
      await api(server, 'PUT', `/v1/systems/system-${c}`, {
        team: 'team-bench',
        datasets: [{ name: `profiles-${c}`, fields: email }],
      });
      await api(server, 'PUT', `/v1/clients/${clientName(c)}`, {
        system: `system-${c}`,
        protocol: 'http',
        address: setup.verified[c],
      });
    }
    return setup;
  } catch (error) {
    await setup.close();
    throw error;
  }
}

export interface FanoutRun {
  readonly ms: number;
  /** Mean time of one call as Lethe recorded it (attempt start to finish): token, HTTP, latency. */
  readonly meanAttemptMs: number;
}

/**
 * One request through Lethe, checked: one task per client, each done in one attempt, each having
 * found (DSAR) or deleted one record.
 */
export async function timeLetheFanout(
  server: BenchLethe,
  setup: FanoutSetup,
  type: 'delete' | 'dsar',
  id: string,
  email: string,
): Promise<FanoutRun> {
  const { ms, request } = await fileAndWait(server, { id, type, identifiers: { email } });
  const tasks = request.tasks ?? [];
  const wrong = tasks.filter(
    (task) =>
      task.state !== 'done' ||
      task.attempts !== 1 ||
      task.rowsFound !== 1 ||
      task.rowsChanged !== (type === 'delete' ? 1 : 0),
  );
  if (tasks.length !== setup.verified.length || wrong.length > 0) {
    throw new Error(`request ${id}: unexpected tasks ${JSON.stringify(tasks.map(summary))}`);
  }
  return { ms, meanAttemptMs: meanAttemptMs(request) };
}

function summary(task: NonNullable<RightsRequest['tasks']>[number]) {
  return { target: task.target, state: task.state, attempts: task.attempts, error: task.lastError };
}

function meanAttemptMs(request: RightsRequest): number {
  const durations = (request.tasks ?? []).flatMap((task) =>
    task.attemptLog.flatMap((attempt) =>
      attempt.finishedAt === undefined
        ? []
        : [Date.parse(attempt.finishedAt) - Date.parse(attempt.startedAt)],
    ),
  );
  return durations.reduce((sum, value) => sum + value, 0) / Math.max(1, durations.length);
}

/**
 * The naive loop: the same JSON body to each client in turn with plain `fetch`, no token, no
 * retries, no record kept. Each answer must be the contract's success.
 */
export async function timeNaiveFanout(
  setup: FanoutSetup,
  type: 'delete' | 'dsar',
  id: string,
  email: string,
): Promise<number> {
  const started = performance.now();
  for (const [index, url] of setup.plain.entries()) {
    const operation = type === 'dsar' ? 'get' : 'delete';
    const body = {
      requestId: id,
      taskId: `task-${index + 1}`,
      identifiers: { email },
      ...(type === 'dsar' ? {} : { mode: 'rows' }),
    };
    const response = await fetch(`${url}/privacy/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { records?: unknown[]; deleted?: number };
    const good = type === 'dsar' ? answer.records?.length === 1 : answer.deleted === 1;
    if (response.status !== 200 || !good) {
      throw new Error(`naive ${type} to ${url}: ${response.status} ${JSON.stringify(answer)}`);
    }
  }
  return performance.now() - started;
}
