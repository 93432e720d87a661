import type { Job, Policy, SubjectRetention, UsageEvent } from '@lethe/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openKeyedStore } from '../src/auth/key-material.js';
import { addDuration, parseDuration, type Duration } from '../src/lib/duration.js';
import { fieldExpiry, subjectExpiry } from '../src/retention/expiry.js';
import { createLethe, type Lethe, type LetheOptions } from '../src/server.js';
import { availableBackends } from './support/backends.js';
import { loadFixtures, POLICIES, usage } from './support/fixtures.js';
import { waitFor } from './support/wait-for.js';

/**
 * A retention change recomputes expiries as a background job (docs/retention.md, "Retention
 * changes"): progress is visible, the result is exact for the version in force even with ingest
 * running meanwhile and a second change superseding the first, and the job survives a restart.
 */
const available = await availableBackends();
const POLICY = 'user-account-access';
const SUBJECTS = 30;
const BASE = Date.parse('2023-01-01T00:00:00Z');
const DAY = 86_400_000;

type Location = Awaited<ReturnType<(typeof available)[number]['create']>>;

describe.each(available)('retention recompute jobs on $name', (backend) => {
  let location: Location;
  const open: Lethe[] = [];
  const sent: UsageEvent[] = [];
  let retention: Record<string, string>;

  async function start(options: Partial<LetheOptions> = {}): Promise<Lethe> {
    const lethe = await createLethe({
      ...location,
      rateLimit: false,
      // Small steps with a pause between them, so that a test sees the job under way.
      recomputeChunk: 3,
      recomputeWaitMs: 0,
      jobRunner: { leaseMs: 30_000, pollMs: 50, pauseMs: 25, retryMs: 100 },
      ...options,
    });
    open.push(lethe);
    return lethe;
  }

  async function stop(lethe: Lethe): Promise<void> {
    open.splice(open.indexOf(lethe), 1);
    await lethe.close();
  }

  async function call(lethe: Lethe, method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) {
    const { token } = await lethe.tokens.mint({ subject: 'jobs-test', role: 'admin', ttlSeconds: 600 });
    return lethe.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  }

  async function ingest(lethe: Lethe, events: UsageEvent[]): Promise<void> {
    const response = await call(lethe, 'POST', '/v1/events', { events });
    expect(response.statusCode).toBe(200);
    expect(response.json().rejected).toEqual([]);
    sent.push(...events);
  }

  async function putRetention(lethe: Lethe, value: string): Promise<Policy> {
    const response = await call(lethe, 'PUT', `/v1/policies/${POLICY}`, {
      ...POLICIES[POLICY],
      retention: value,
      reason: `retention ${value}`,
    });
    expect(response.statusCode).toBe(200);
    retention[POLICY] = value;
    return response.json<Policy>();
  }

  async function job(lethe: Lethe, id: string): Promise<Job> {
    const response = await call(lethe, 'GET', `/v1/jobs/${id}`);
    expect(response.statusCode).toBe(200);
    return response.json<Job>();
  }

  async function settled(lethe: Lethe, id: string): Promise<Job> {
    let last: Job | undefined;
    await waitFor(async () => {
      last = await job(lethe, id);
      return last.state !== 'queued' && last.state !== 'running';
    }, 30_000);
    return last as Job;
  }

  /** Every subject sent about: its expiries as served equal the pure rule over every event sent. */
  async function expectExact(lethe: Lethe): Promise<void> {
    const retentionEnd = (policy: string, at: number) =>
      addDuration(at, parseDuration(retention[policy] as string) as Duration);
    const subjects = [...new Set(sent.map((event) => event.subject))].sort();
    for (const subject of subjects) {
      const lastUse = new Map<string, { policy: string; lastUseAt: number; lastSystem: string }>();
      for (const event of sent.filter((e) => e.subject === subject)) {
        for (const field of event.fields) {
          const key = `${field}\u0000${event.policy}`;
          const at = Date.parse(event.at);
          const use = lastUse.get(key);
          if (!use || at >= use.lastUseAt)
            lastUse.set(key, { policy: event.policy, lastUseAt: at, lastSystem: event.system });
        }
      }
      const fields = new Map<string, number>();
      for (const [key] of lastUse) {
        const field = key.split('\u0000')[0] as string;
        const uses = [...lastUse].filter(([k]) => k.startsWith(`${field}\u0000`)).map(([, use]) => use);
        fields.set(field, fieldExpiry(uses, retentionEnd)?.expiresAt as number);
      }
      const response = await call(lethe, 'GET', `/v1/subjects/${subject}`);
      expect(response.statusCode).toBe(200);
      const view = response.json<SubjectRetention>();
      const served = Object.fromEntries(view.fields.map((f) => [f.field, Date.parse(f.expiresAt)]));
      expect({ subject, fields: served }).toEqual({ subject, fields: Object.fromEntries(fields) });
      const expiries = [...fields].map(([field, expiresAt]) => ({
        field,
        expiresAt,
        policy: '',
        system: '',
      }));
      expect(Date.parse(view.expiresAt)).toBe(subjectExpiry(expiries)?.expiresAt);
    }
  }

  /** `count` subjects, each with one use under the policy and some with an order too. */
  function population(prefix: string, count: number, dayOffset = 0): UsageEvent[] {
    const events: UsageEvent[] = [];
    for (let i = 0; i < count; i += 1) {
      const at = new Date(BASE + (i + dayOffset) * DAY).toISOString();
      events.push(usage(`${prefix}${String(i).padStart(3, '0')}`, POLICY, ['accounts.email'], at));
      if (i % 3 === 0)
        events.push(
          usage(`${prefix}${String(i).padStart(3, '0')}`, 'order-delivery', ['orders.address'], at),
        );
    }
    return events;
  }

  beforeEach(async () => {
    location = await backend.create({ migrated: true });
    sent.length = 0;
    retention = Object.fromEntries(Object.entries(POLICIES).map(([name, p]) => [name, p.retention]));
    const lethe = await start();
    await loadFixtures(lethe.services);
    await ingest(lethe, population('s', SUBJECTS));
  });

  afterEach(async () => {
    for (const lethe of open.splice(0)) await lethe.close();
    await location.dispose();
  });

  it('answers the change at once, shows progress, and ends with the expiries of the new version', async () => {
    const lethe = open[0] as Lethe;
    const policy = await putRetention(lethe, 'P1M');
    expect(policy).toMatchObject({ version: 2, retention: 'P1M', recompute: { state: 'queued' } });
    const id = policy.recompute?.job as string;

    // Under way: part done, and the policy says so.
    let midway: Job | undefined;
    await waitFor(async () => {
      const seen = await job(lethe, id);
      if (seen.state === 'running' && seen.progress.done > 0 && seen.progress.done < SUBJECTS) midway = seen;
      return midway !== undefined || seen.state === 'done';
    });
    expect(midway).toMatchObject({ state: 'running', progress: { total: SUBJECTS } });
    const during = (await call(lethe, 'GET', `/v1/policies/${POLICY}`)).json<Policy>();
    expect(during.recompute?.job ?? id).toBe(id);

    const done = await settled(lethe, id);
    expect(done).toMatchObject({
      state: 'done',
      policy: POLICY,
      policyVersion: 2,
      progress: { done: SUBJECTS, total: SUBJECTS },
      result: {
        subjectFieldsUsingPolicy: SUBJECTS,
        subjectFieldsChanged: SUBJECTS,
        subjectFieldsEarlier: SUBJECTS,
      },
      createdBy: 'jobs-test',
    });
    expect(done.finishedAt).toBeDefined();
    expect((await call(lethe, 'GET', `/v1/policies/${POLICY}`)).json<Policy>().recompute).toBeUndefined();
    const listed = (await call(lethe, 'GET', '/v1/jobs?state=done')).json<{ items: Job[] }>();
    expect(listed.items.map((j) => j.id)).toContain(id);
    expect((await call(lethe, 'GET', '/v1/jobs?state=running')).json<{ items: Job[] }>().items).toEqual([]);
    await expectExact(lethe);
  });

  it('is exact with ingest running during the job and a second change superseding the first', async () => {
    const lethe = open[0] as Lethe;
    const first = (await putRetention(lethe, 'P1M')).recompute?.job as string;
    // Uses of subjects before and after the job's position, old and new, some new subjects.
    const batches = [0, 1, 2, 3, 4, 5].map((round) => [
      ...population('s', SUBJECTS, 200 + round * 40).filter((_, i) => i % (round + 2) === 0),
      ...population(`n${round}-`, 4, round * 90),
    ]);
    await ingest(lethe, batches[0] as UsageEvent[]);
    await waitFor(async () => (await job(lethe, first)).progress.done > 0);
    await ingest(lethe, batches[1] as UsageEvent[]);
    const second = (await putRetention(lethe, 'P3M')).recompute?.job as string;
    for (const batch of batches.slice(2)) {
      await ingest(lethe, batch);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await settled(lethe, second)).toMatchObject({ state: 'done', policyVersion: 3 });
    expect(await job(lethe, first)).toMatchObject({ state: 'superseded', supersededBy: second });
    await expectExact(lethe);
  });

  it('resumes after a restart from its last checkpoint, also when the node that held it died', async () => {
    let lethe = open[0] as Lethe;
    const id = (await putRetention(lethe, 'P1M')).recompute?.job as string;
    await waitFor(async () => (await job(lethe, id)).progress.done >= 6);
    await stop(lethe);

    // As if the node had died holding the job: its lease is left behind.
    const { store } = await openKeyedStore(location);
    const stopped = await store.repository.jobs.get(id);
    expect(stopped).toMatchObject({ state: 'running' });
    expect(stopped?.done).toBeGreaterThanOrEqual(6);
    expect(stopped?.done).toBeLessThan(SUBJECTS);
    await store.repository.db
      .updateTable('jobs')
      .set({ lease_owner: 'node-crashed', lease_until: Date.now() + 500 })
      .where('id', '=', id)
      .execute();
    await store.close();

    lethe = await start({ jobRunner: { leaseMs: 30_000, pollMs: 50, pauseMs: 0, retryMs: 100 } });
    const done = await settled(lethe, id);
    // Resumed, not restarted: every subject-field counted once.
    expect(done).toMatchObject({
      state: 'done',
      progress: { done: SUBJECTS, total: SUBJECTS },
      result: { subjectFieldsUsingPolicy: SUBJECTS, subjectFieldsChanged: SUBJECTS },
    });
    await expectExact(lethe);
  });

  it('tries a failing step again, then ends the job failed with the reason', async () => {
    const lethe = open[0] as Lethe;
    const id = (await putRetention(lethe, 'P1M')).recompute?.job as string;
    await waitFor(async () => (await job(lethe, id)).progress.done >= 3);
    // A checkpoint no step can read: every step from it throws, and rolls back.
    const corrupt = () =>
      lethe.services.store.repository.db
        .updateTable('jobs')
        .set({ checkpoint: '{not json' })
        .where('id', '=', id)
        .where('state', '=', 'running')
        .execute();
    let seen: Job | undefined;
    await waitFor(async () => {
      seen = await job(lethe, id);
      if (seen.state === 'running' && seen.error === undefined) await corrupt();
      return seen.state === 'failed';
    });
    expect(seen).toMatchObject({ state: 'failed', error: expect.stringContaining('JSON') });
    expect(seen?.finishedAt).toBeDefined();
    expect((await lethe.services.store.repository.jobs.get(id))?.attempts).toBe(3);
    expect((await call(lethe, 'GET', `/v1/policies/${POLICY}`)).json<Policy>().recompute).toBeUndefined();
  });

  it('answers 404 for an unknown job, 400 for a malformed id, and 403 to a role without jobs:read', async () => {
    const lethe = open[0] as Lethe;
    const missing = await call(lethe, 'GET', `/v1/jobs/job_${'0'.repeat(32)}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'JOB_NOT_FOUND', message: expect.any(String) } });
    expect((await call(lethe, 'GET', '/v1/jobs/not-a-job')).statusCode).toBe(400);
    expect((await call(lethe, 'GET', '/v1/jobs?state=sleeping')).statusCode).toBe(400);

    const id = (await putRetention(lethe, 'P1M')).recompute?.job as string;
    const as = async (role: 'service' | 'auditor', url: string) => {
      const { token } = await lethe.tokens.mint({
        subject: `jobs-${role}`,
        role,
        ...(role === 'service' ? { system: 'accounts' } : {}),
        ttlSeconds: 600,
      });
      return lethe.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    };
    for (const url of [`/v1/jobs/${id}`, '/v1/jobs']) {
      const refused = await as('service', url);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
      expect((await as('auditor', url)).statusCode).toBe(200);
    }
    await settled(lethe, id);
  });

  it('answers a small change with its recompute done when it ends within the wait', async () => {
    await stop(open[0] as Lethe);
    const lethe = await start({
      recomputeWaitMs: 5_000,
      jobRunner: { leaseMs: 30_000, pollMs: 50, pauseMs: 0, retryMs: 100 },
    });
    const policy = await putRetention(lethe, 'P1M');
    expect(policy.recompute).toMatchObject({ state: 'done', progress: { done: SUBJECTS, total: SUBJECTS } });
    await expectExact(lethe);
  });

  it.runIf(backend.name === 'postgres')(
    'runs a job on one node only when two nodes share the store',
    async () => {
      const first = open[0] as Lethe;
      const second = await start();
      const id = (await putRetention(first, 'P1M')).recompute?.job as string;
      second.services.jobRunner.wake();
      const done = await settled(second, id);
      expect(done).toMatchObject({
        state: 'done',
        result: { subjectFieldsUsingPolicy: SUBJECTS, subjectFieldsChanged: SUBJECTS },
      });
      await expectExact(second);
    },
  );
});
