import type { IngestResult, SubjectRetention, UsageEvent } from '@lethe/api';
import { api, startServer, type ServerProcess } from './lethe-process.js';
import { mintToken } from './mint.js';

const BATCH_SIZE = 60;
/** Every batch has subjects of its own, so what the store holds of a batch can be counted exactly. */
const SUBJECTS_PER_BATCH = 3;
const EVENTS_PER_SUBJECT = BATCH_SIZE / SUBJECTS_PER_BATCH;
/** Senders working at once: when the server dies, the others' requests are in flight. */
const SENDERS = 4;
/** The server is killed right after this many batches were acknowledged. */
export const KILL_AFTER_ACKS = 16;

export interface CrashTrialResult {
  /** Batches answered 200 (some read after the kill). */
  readonly acknowledged: number;
  /** Batches whose connection the kill cut: all or nothing of each may be stored. */
  readonly unanswered: number;
  /** Everything that broke the promise "200 means durable"; empty when the trial passed. */
  readonly problems: string[];
}

function batch(run: string, index: number): UsageEvent[] {
  return Array.from({ length: BATCH_SIZE }, (_, j) => ({
    id: `${run}-b${index}-e${j}`,
    subject: subjectOf(run, index, j % SUBJECTS_PER_BATCH),
    system: 'app',
    policy: 'account',
    fields: ['accounts.email'],
    at: new Date(Date.UTC(2024, 5, 1) + j * 60_000).toISOString(),
  }));
}

function subjectOf(run: string, index: number, k: number): string {
  return `${run}-b${index}-s${k}`;
}

/**
 * API.md: "200 means every accepted event is durable". A real `lethe serve` is SIGKILLed (no
 * graceful close, no flush) the moment a batch is acknowledged, with other batches in flight;
 * after a restart on the same data dir / database every acknowledged event is there, every
 * batch is all-or-nothing, and resending everything counts nothing twice. Used once per backend
 * by durability.test.ts and in a loop by `npm run fuzz`; the location may be used again (each
 * trial has its own subjects).
 */
export async function crashTrial(location: {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
}): Promise<CrashTrialResult> {
  const problems: string[] = [];
  const token = await mintToken(location);
  const serve = { dataDir: location.dataDir, databaseUrl: location.databaseUrl };
  let server: ServerProcess = await startServer(serve);
  const call = (method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown) =>
    api(server.url, token, method, path, body);

  const policy = await call('PUT', '/v1/policies/account', {
    purpose: 'essential.account',
    retention: 'P2Y',
    legalBasis: 'contract',
  });
  const system = await call('PUT', '/v1/systems/app', {
    team: 'core',
    datasets: [{ name: 'accounts', fields: [{ name: 'email', categories: ['user.contact.email'] }] }],
  });
  if (policy.status >= 300 || system.status >= 300) {
    await server.stop();
    return { acknowledged: 0, unanswered: 0, problems: [`set-up: ${policy.status}, ${system.status}`] };
  }

  const run = `r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const acked = new Set<number>();
  const unanswered = new Set<number>();
  let next = 0;
  let killed = false;

  const sender = async () => {
    while (!killed) {
      const index = next++;
      let response: Response;
      let result: IngestResult;
      try {
        response = await fetch(`${server.url}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events: batch(run, index) }),
        });
        if (response.status !== 200) {
          problems.push(`batch ${index}: ${response.status} ${await response.text()}`);
          return;
        }
        result = (await response.json()) as IngestResult;
      } catch {
        // No answer (connection reset by the kill): the batch may or may not have committed.
        unanswered.add(index);
        continue;
      }
      // A 200 that arrived is an acknowledgement, even if it is read after the kill.
      acked.add(index);
      if (result.accepted !== BATCH_SIZE || result.duplicates !== 0 || result.rejected.length !== 0) {
        problems.push(`batch ${index}: ${JSON.stringify(result)}`);
      }
      if (!killed && acked.size >= KILL_AFTER_ACKS) {
        killed = true;
        process.kill(server.pid, 'SIGKILL'); // at once: the other senders' requests are in flight
      }
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  await server.exited;
  const sent = [...acked, ...unanswered].sort((a, b) => a - b);

  server = await startServer(serve);
  try {
    /** Uses of `accounts.email` the store holds for one subject; 0 when it knows nothing of it. */
    const storedUses = async (subject: string): Promise<number> => {
      const { status, body } = await call('GET', `/v1/subjects/${subject}`);
      if (status === 404) return 0;
      if (status !== 200) problems.push(`GET /v1/subjects/${subject}: ${status} ${JSON.stringify(body)}`);
      const view = body as SubjectRetention;
      return (view.fields ?? []).flatMap((f) => f.uses).reduce((sum, use) => sum + use.count, 0);
    };
    const storedOfBatch = async (index: number): Promise<number[]> =>
      Promise.all(Array.from({ length: SUBJECTS_PER_BATCH }, (_, k) => storedUses(subjectOf(run, index, k))));
    const whole = Array<number>(SUBJECTS_PER_BATCH).fill(EVENTS_PER_SUBJECT);

    const stored = new Map<number, number>();
    for (const index of sent) {
      const uses = await storedOfBatch(index);
      if (acked.has(index) && uses.join() !== whole.join()) {
        // Acknowledged: exactly the batch, nothing lost and nothing counted twice.
        problems.push(`acknowledged batch ${index} holds ${uses.join(',')}`);
      }
      // Unanswered: one transaction, so all of it or none of it.
      if (!acked.has(index) && !uses.every((n) => n === EVENTS_PER_SUBJECT) && !uses.every((n) => n === 0)) {
        problems.push(`unanswered batch ${index} holds part of it: ${uses.join(',')}`);
      }
      stored.set(
        index,
        uses.reduce((a, b) => a + b, 0),
      );
    }
    // Batches never sent left no trace.
    if ((await storedOfBatch(next)).some((n) => n !== 0))
      problems.push(`batch ${next} was never sent but is stored`);

    // A client retrying everything after the crash: what is stored comes back as duplicates.
    for (const index of sent) {
      const { status, body } = await call('POST', '/v1/events', { events: batch(run, index) });
      const expected = {
        accepted: BATCH_SIZE - stored.get(index)!,
        duplicates: stored.get(index),
        rejected: [],
      };
      if (status !== 200 || JSON.stringify(body) !== JSON.stringify(expected)) {
        problems.push(
          `resent batch ${index}: ${status} ${JSON.stringify(body)}, not ${JSON.stringify(expected)}`,
        );
      }
    }
    for (const index of sent) {
      const uses = await storedOfBatch(index);
      if (uses.join() !== whole.join())
        problems.push(`batch ${index} after the resend holds ${uses.join(',')}`);
    }
  } finally {
    await server.stop();
  }
  if (acked.size < KILL_AFTER_ACKS) problems.push(`only ${acked.size} batches were acknowledged`);
  return { acknowledged: acked.size, unanswered: unanswered.size, problems };
}
