import type { IngestResult, SubjectRetention, UsageEvent } from '@lethe/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { api, killAllServers, startServer, type ServerProcess } from './support/lethe-process.js';
import { mintToken } from './support/mint.js';

const available = await availableBackends();

const BATCH_SIZE = 60;
/** Every batch has subjects of its own, so what the store holds of a batch can be counted exactly. */
const SUBJECTS_PER_BATCH = 3;
const EVENTS_PER_SUBJECT = BATCH_SIZE / SUBJECTS_PER_BATCH;
/** Senders working at once: when the server dies, the others' requests are in flight. */
const SENDERS = 4;
/** The server is killed right after this many batches were acknowledged. */
const KILL_AFTER_ACKS = 16;

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
 * batch is all-or-nothing, and resending everything counts nothing twice.
 */
describe.each(ALL_BACKENDS)('durability across a crash: $name', { timeout: 60_000 }, (backend) => {
  const missing = !available.includes(backend);
  let location: Awaited<ReturnType<typeof backend.create>>;

  beforeEach(async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    location = await backend.create();
  });
  afterEach(async () => {
    await killAllServers();
    if (!missing) await location.dispose();
  });

  it('keeps every acknowledged batch after SIGKILL, and a full resend is all duplicates', async () => {
    const token = await mintToken(location);
    const serve = { dataDir: location.dataDir, databaseUrl: location.databaseUrl };
    let server: ServerProcess = await startServer(serve);
    const call = (method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown) =>
      api(server.url, token, method, path, body);

    expect(
      (
        await call('PUT', '/v1/policies/account', {
          purpose: 'essential.account',
          retention: 'P2Y',
          legalBasis: 'contract',
        })
      ).status,
    ).toBe(201);
    const system = await call('PUT', '/v1/systems/app', {
      team: 'core',
      datasets: [{ name: 'accounts', fields: [{ name: 'email', categories: ['user.contact.email'] }] }],
    });
    expect(system.status).toBe(201);

    const run = `r${Date.now().toString(36)}`;
    const acked = new Set<number>();
    const unanswered = new Set<number>();
    const unexpected: string[] = [];
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
            unexpected.push(`batch ${index}: ${response.status} ${await response.text()}`);
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
          unexpected.push(`batch ${index}: ${JSON.stringify(result)}`);
        }
        if (!killed && acked.size >= KILL_AFTER_ACKS) {
          killed = true;
          process.kill(server.pid, 'SIGKILL'); // at once: the other senders' requests are in flight
        }
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    await server.exited;
    expect(unexpected).toEqual([]);
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    const sent = [...acked, ...unanswered].sort((a, b) => a - b);

    server = await startServer(serve);

    /** Uses of `accounts.email` the store holds for one subject; 0 when it knows nothing of it. */
    const storedUses = async (subject: string): Promise<number> => {
      const { status, body } = await call('GET', `/v1/subjects/${subject}`);
      if (status === 404) return 0;
      expect(status, JSON.stringify(body)).toBe(200);
      const view = body as SubjectRetention;
      return view.fields.flatMap((f) => f.uses).reduce((sum, use) => sum + use.count, 0);
    };
    const storedOfBatch = async (index: number): Promise<number[]> =>
      Promise.all(Array.from({ length: SUBJECTS_PER_BATCH }, (_, k) => storedUses(subjectOf(run, index, k))));

    const stored = new Map<number, number>();
    for (const index of sent) {
      const uses = await storedOfBatch(index);
      if (acked.has(index)) {
        // Acknowledged: exactly the batch, nothing lost and nothing counted twice.
        expect(uses, `acknowledged batch ${index}`).toEqual(
          Array(SUBJECTS_PER_BATCH).fill(EVENTS_PER_SUBJECT),
        );
      } else {
        // Unanswered: one transaction, so all of it or none of it.
        const all = uses.every((n) => n === EVENTS_PER_SUBJECT);
        const none = uses.every((n) => n === 0);
        expect(all || none, `unanswered batch ${index}: ${uses.join(',')}`).toBe(true);
      }
      stored.set(
        index,
        uses.reduce((a, b) => a + b, 0),
      );
    }
    // Batches never sent left no trace.
    expect(await storedOfBatch(next)).toEqual(Array(SUBJECTS_PER_BATCH).fill(0));

    // A client retrying everything after the crash: what is stored comes back as duplicates.
    for (const index of sent) {
      const { status, body } = await call('POST', '/v1/events', { events: batch(run, index) });
      expect(status).toBe(200);
      expect(body, `resent batch ${index}`).toEqual({
        accepted: BATCH_SIZE - stored.get(index)!,
        duplicates: stored.get(index),
        rejected: [],
      });
    }
    for (const index of sent) {
      expect(await storedOfBatch(index), `batch ${index} after the resend`).toEqual(
        Array(SUBJECTS_PER_BATCH).fill(EVENTS_PER_SUBJECT),
      );
    }
    await server.stop();
  });
});
