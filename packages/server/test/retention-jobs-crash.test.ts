import type { Job, Policy, SubjectRetention, UsageEvent } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import { addDuration, parseDuration, type Duration } from '../src/lib/duration.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { api, startServer } from './support/lethe-process.js';
import { mintToken } from './support/mint.js';
import { waitFor } from './support/wait-for.js';

/**
 * A retention recompute survives the death of the `lethe serve` process running it (SIGKILL, no
 * goodbye): the next life takes the job up again from its last checkpoint and finishes it.
 * SQLite, whose next life frees the dead one's lease at start; on PostgreSQL the lease runs out
 * (`retention-jobs.test.ts` covers that in-process).
 */
const SUBJECTS = 60_000;
const BASE = Date.parse('2024-01-01T00:00:00Z');
const DAY = 86_400_000;

describe('a server killed during a retention recompute', () => {
  it('resumes the job after the restart and ends with the expiries of the new version', async () => {
    const location = await SQLITE_BACKEND.create();
    const token = await mintToken({ dataDir: location.dataDir });
    const env = { LETHE_RATE_LIMIT: 'off' };
    let server = await startServer({ dataDir: location.dataDir, env });
    try {
      const send = (method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown) =>
        api(server.url, token, method, path, body);
      const policy = { purpose: 'essential.account', legalBasis: 'contract' };
      expect((await send('PUT', '/v1/policies/crash-account', { ...policy, retention: 'P2Y' })).status).toBe(
        201,
      );
      const system = { team: 'identity', datasets: [{ name: 'accounts', fields: [{ name: 'email' }] }] };
      expect((await send('PUT', '/v1/systems/accounts', system)).status).toBe(201);
      const at = (i: number) => BASE + (i % 365) * DAY;
      for (let start = 0; start < SUBJECTS; start += 1_000) {
        const events: UsageEvent[] = Array.from({ length: 1_000 }, (_, k) => ({
          subject: `c-${start + k}`,
          system: 'accounts',
          policy: 'crash-account',
          fields: ['accounts.email'],
          at: new Date(at(start + k)).toISOString(),
        }));
        expect((await send('POST', '/v1/events', { events })).status).toBe(200);
      }

      const put = await send('PUT', '/v1/policies/crash-account', {
        ...policy,
        retention: 'P1Y',
        reason: 'shorter',
      });
      expect(put.status).toBe(200);
      const id = (put.body as Policy).recompute?.job as string;
      let before: Job | undefined;
      await waitFor(async () => {
        before = (await send('GET', `/v1/jobs/${id}`)).body as Job;
        return before.state !== 'queued' && before.progress.done > 0;
      });
      expect(before, 'the recompute ended before the crash: make it larger').toMatchObject({
        state: 'running',
      });
      await server.kill();

      server = await startServer({ dataDir: location.dataDir, env });
      let after: Job | undefined;
      await waitFor(async () => {
        after = (await send('GET', `/v1/jobs/${id}`)).body as Job;
        return after.state === 'done' || after.state === 'failed';
      }, 60_000);
      // Resumed, not started over: every subject-field counted once.
      expect(after).toMatchObject({
        state: 'done',
        progress: { done: SUBJECTS, total: SUBJECTS },
        result: { subjectFieldsUsingPolicy: SUBJECTS, subjectFieldsChanged: SUBJECTS },
      });
      const year = parseDuration('P1Y') as Duration;
      for (const i of [0, 1, Math.floor(SUBJECTS / 2), SUBJECTS - 1]) {
        const view = (await send('GET', `/v1/subjects/c-${i}`)).body as SubjectRetention;
        expect(view.expiresAt).toBe(new Date(addDuration(at(i), year)).toISOString());
      }
    } finally {
      await server.stop();
      await location.dispose();
    }
  }, 180_000);
});
