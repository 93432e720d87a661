import type { RightsRequest } from '@lethe/api';
import {
  startHttpRightsClient,
  type HttpRightsClientFixture,
} from '../packages/server/test/support/rights-client-fixtures.js';
import { api, fileAndWait, type BenchLethe } from './requests-lethe.js';

/**
 * The fan-out half of `bench:requests`: `clients` HTTP rights clients on loopback (the test
 * suite's fixture: a real node:http server that verifies Lethe's call tokens against its JWKS,
 * waits `latencyMs`, then answers by the contract), one system per client in Lethe's data map,
 * and the naive loop that calls the same number of clients one after another.
 */

export interface FanoutSetup {
  readonly fixtures: HttpRightsClientFixture[];
  /** The same clients without token checks, for the naive loop (which sends no token). */
  readonly plainFixtures: HttpRightsClientFixture[];
  close(): Promise<void>;
}

export function fanoutEmail(kind: string, run: number): string {
  return `fanout-${kind}-${run}@example.com`;
}

/** Every client holds one record for each email the runs will use. */
function recordsFor(emails: readonly string[], client: number) {
  return new Map(
    emails.map((email) => [
      email,
      [{ dataset: 'profiles', pk: `p-${client}`, fields: { email, plan: 'premium', client: `c${client}` } }],
    ]),
  );
}

export async function setUpFanout(
  server: BenchLethe,
  clients: number,
  latencyMs: number,
  emails: readonly string[],
): Promise<FanoutSetup> {
  const fixtures: HttpRightsClientFixture[] = [];
  const plainFixtures: HttpRightsClientFixture[] = [];
  const close = async () => {
    for (const fixture of [...fixtures, ...plainFixtures]) await fixture.close();
  };
  try {
    const jwksUrl = `${server.url}/.well-known/jwks.json`;
    for (let c = 0; c < clients; c++) {
      const records = recordsFor(emails, c);
      fixtures.push(
        await startHttpRightsClient({ jwksUrl, audience: `rights-client:${clientName(c)}`, latencyMs, records }),
      );
      plainFixtures.push(
        await startHttpRightsClient({ audience: `rights-client:${clientName(c)}`, latencyMs, records }),
      );
    }
    const email = [{ name: 'email', categories: ['user.contact.email'] }];
    for (let c = 0; c < clients; c++) {
      await api(server, 'PUT', `/v1/systems/system-${c}`, {
        team: 'team-bench',
        datasets: [{ name: `profiles-${c}`, fields: email }],
      });
      await api(server, 'PUT', `/v1/clients/${clientName(c)}`, {
        system: `system-${c}`,
        protocol: 'http',
        address: fixtures[c]?.url,
      });
    }
    return { fixtures, plainFixtures, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function clientName(c: number): string {
  return `client-${c}`;
}

export interface FanoutRun {
  readonly ms: number;
  /** Mean time of one call as Lethe recorded it (attempt start to finish): token, HTTP, latency. */
  readonly meanAttemptMs: number;
}

/** One request through Lethe, checked: one task per client, each done once, each client called. */
export async function timeLetheFanout(
  server: BenchLethe,
  setup: FanoutSetup,
  type: 'delete' | 'dsar',
  id: string,
  email: string,
): Promise<FanoutRun> {
  const { ms, request } = await fileAndWait(server, { id, type, identifiers: { email } });
  const tasks = request.tasks ?? [];
  if (tasks.length !== setup.fixtures.length || tasks.some((task) => task.state !== 'done' || task.attempts !== 1)) {
    throw new Error(`request ${id}: unexpected tasks ${JSON.stringify(tasks.map(summary))}`);
  }
  // Each client holds one record for the email: a DSAR returns it, a deletion counts it.
  if (request.rowsFound !== setup.fixtures.length) {
    throw new Error(`request ${id} found ${request.rowsFound} records, expected ${setup.fixtures.length}`);
  }
  if (type === 'delete') {
    const missed = setup.fixtures.filter((fixture) => !fixture.deleted.has(email)).length;
    if (missed > 0) throw new Error(`request ${id}: ${missed} clients did not delete ${email}`);
  }
  return { ms, meanAttemptMs: meanAttemptMs(request) };
}

function summary(task: NonNullable<RightsRequest['tasks']>[number]) {
  return { target: task.target, state: task.state, attempts: task.attempts, error: task.lastError };
}

function meanAttemptMs(request: RightsRequest): number {
  const durations = (request.tasks ?? []).flatMap((task) =>
    task.attemptLog.flatMap((attempt) =>
      attempt.finishedAt === undefined ? [] : [Date.parse(attempt.finishedAt) - Date.parse(attempt.startedAt)],
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
  for (const [index, fixture] of setup.plainFixtures.entries()) {
    const operation = type === 'dsar' ? 'get' : 'delete';
    const body = {
      requestId: id,
      taskId: `task-${index + 1}`,
      identifiers: { email },
      ...(type === 'dsar' ? {} : { mode: 'rows' }),
    };
    const response = await fetch(`${fixture.url}/privacy/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { records?: unknown[]; deleted?: number };
    const good = type === 'dsar' ? answer.records?.length === 1 : answer.deleted === 1;
    if (response.status !== 200 || !good) {
      throw new Error(`naive ${type} to ${fixture.url}: ${response.status} ${JSON.stringify(answer)}`);
    }
  }
  return performance.now() - started;
}
