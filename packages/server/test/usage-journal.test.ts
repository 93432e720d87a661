import type { SubjectRetention, UsageEvent } from '@lethe/api';
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import { addDuration, parseDuration, type Duration } from '../src/lib/duration.js';
import { fieldExpiry, subjectExpiry } from '../src/retention/expiry.js';
import { EventIdWindow } from '../src/retention/journal/event-id-window.js';
import { JournalFold } from '../src/retention/journal/journal-fold.js';
import { createLethe, type Lethe } from '../src/server.js';
import type { Services } from '../src/services.js';
import { ALL_BACKENDS, availableBackends, openServices, type Backend } from './support/backends.js';
import { loadFixtures, POLICIES } from './support/fixtures.js';

const available = await availableBackends();
const admin = LETHE_ITSELF;
const DAY = 86_400_000;

/** The pure rule over every event sent (ids deduplicated): each field's and the subject's expiry. */
function expected(events: readonly UsageEvent[], subject: string) {
  const uses = new Map<string, Map<string, { lastUseAt: number; lastSystem: string; count: number }>>();
  for (const event of events) {
    if (event.subject !== subject) continue;
    const at = Date.parse(event.at);
    for (const field of event.fields) {
      const byPolicy = uses.get(field) ?? new Map();
      uses.set(field, byPolicy);
      const use = byPolicy.get(event.policy) ?? { lastUseAt: -Infinity, lastSystem: '', count: 0 };
      use.count += 1;
      if (at >= use.lastUseAt) Object.assign(use, { lastUseAt: at, lastSystem: event.system });
      byPolicy.set(event.policy, use);
    }
  }
  const retentionEnd = (policy: string, lastUseAt: number) =>
    addDuration(lastUseAt, parseDuration(POLICIES[policy]?.retention ?? '') as Duration);
  const fields = [...uses].map(([field, byPolicy]) => {
    const list = [...byPolicy].map(([policy, use]) => ({ policy, ...use }));
    const expiry = fieldExpiry(list, retentionEnd);
    return {
      field,
      expiresAt: expiry?.expiresAt ?? 0,
      policy: expiry?.policy ?? '',
      system: expiry?.system ?? '',
      count: list.reduce((sum, use) => sum + use.count, 0),
    };
  });
  return {
    expiresAt: subjectExpiry(fields)?.expiresAt,
    fields: fields.map(({ field, expiresAt, count }) => ({ field, expiresAt, count })).sort(byField),
  };
}

function byField(a: { field: string }, b: { field: string }): number {
  return a.field < b.field ? -1 : a.field > b.field ? 1 : 0;
}

function observed(view: SubjectRetention | undefined) {
  if (!view) return { expiresAt: undefined, fields: [] };
  return {
    expiresAt: Date.parse(view.expiresAt),
    fields: view.fields
      .map((field) => ({
        field: field.field,
        expiresAt: Date.parse(field.expiresAt),
        count: field.uses.reduce((sum, use) => sum + use.count, 0),
      }))
      .sort(byField),
  };
}

/** Dates an event id's receipt back, where the backend keeps event ids (SQLite: the journal's file). */
async function ageEventId(backend: Backend, services: Services, dataDir: string, id: string, at: number) {
  if (backend.name === 'postgres') {
    await services.store.repository.db
      .updateTable('event_ids')
      .set({ received_at: at })
      .where('id', '=', id)
      .execute();
    return;
  }
  const journal = new BetterSqlite3(join(dataDir, 'lethe.journal.db'));
  try {
    journal.prepare('update event_ids set received_at = ? where id = ?').run(at, id);
  } finally {
    journal.close();
  }
}

const FIELDS = ['accounts.email', 'accounts.name', 'orders.address'];
const SYSTEM_OF: Record<string, string> = { 'user-account-access': 'accounts', 'order-delivery': 'orders' };

/** Events about a few subjects of one run; some reuse an earlier id (a retry). */
function events(run: number): fc.Arbitrary<RawEvent[]> {
  return fc.array(
    fc.record({
      subject: fc.integer({ min: 0, max: 2 }).map((i) => `r${run}-s${i}`),
      policy: fc.constantFrom('user-account-access', 'order-delivery'),
      fields: fc.subarray(FIELDS, { minLength: 1 }),
      day: fc.integer({ min: 0, max: 700 }),
      id: fc.integer({ min: 0, max: 30 }),
    }),
    { minLength: 1, maxLength: 8 },
  );
}

interface RawEvent {
  subject: string;
  policy: string;
  fields: string[];
  day: number;
  id: number;
}

type Step =
  | { kind: 'ingest'; batch: RawEvent[] }
  | { kind: 'fold'; max: number }
  | { kind: 'read'; subject: number }
  | { kind: 'race'; batch: RawEvent[]; subject: number };

describe.each(ALL_BACKENDS)('usage journal: $name', (backend: Backend) => {
  const missing = !available.includes(backend);
  let services: Services;
  let dataDir: string;
  let dispose: () => Promise<void>;

  beforeEach(async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    ({ services, dataDir, dispose } = await openServices(backend));
    await loadFixtures(services);
  });
  afterEach(async () => {
    if (!missing) await dispose();
  });

  const read = (subject: string) =>
    services.retention.subject(admin, subject).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'SUBJECT_NOT_FOUND') return undefined;
      throw error;
    });

  it('reads see every acknowledged event, however ingest, folds and reads interleave (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer().chain(() => {
          run += 1;
          const batch = events(run);
          return fc
            .array(
              fc.oneof<fc.Arbitrary<Step>[]>(
                batch.map((b) => ({ kind: 'ingest', batch: b })),
                fc.integer({ min: 1, max: 20 }).map((max) => ({ kind: 'fold', max })),
                fc.integer({ min: 0, max: 2 }).map((subject) => ({ kind: 'read', subject })),
                fc
                  .tuple(batch, fc.integer({ min: 0, max: 2 }))
                  .map(([b, subject]) => ({ kind: 'race', batch: b, subject })),
              ),
              { minLength: 1, maxLength: 12 },
            )
            .map((steps) => ({ run, steps }));
        }),
        async ({ run: own, steps }) => {
          const sent: UsageEvent[] = [];
          const seen = new Set<string>();
          const toEvents = (batch: Step & { kind: 'ingest' | 'race' }) =>
            batch.batch.map((e): UsageEvent => ({
              id: `r${own}-e${e.id}`,
              subject: e.subject,
              system: SYSTEM_OF[e.policy] as string,
              policy: e.policy,
              fields: e.fields,
              at: new Date(Date.UTC(2023, 0, 1) + e.day * DAY).toISOString(),
            }));
          const record = (batch: UsageEvent[]) => {
            for (const event of batch) {
              if (seen.has(event.id as string)) continue;
              seen.add(event.id as string);
              sent.push(event);
            }
          };
          for (const step of steps) {
            if (step.kind === 'ingest') {
              const batch = toEvents(step);
              await services.telemetry.ingest(admin, batch);
              record(batch);
            } else if (step.kind === 'fold') {
              await services.store.fold(step.max);
            } else if (step.kind === 'read') {
              const subject = `r${own}-s${step.subject}`;
              expect(observed(await read(subject))).toEqual(expected(sent, subject));
            } else {
              // The read starts after everything above was acknowledged and while this batch and
              // a fold are in flight: it sees the state before the batch or after it, nothing else.
              const batch = toEvents(step);
              const subject = `r${own}-s${step.subject}`;
              const before = expected(sent, subject);
              const [view] = await Promise.all([
                read(subject),
                services.telemetry.ingest(admin, batch),
                services.store.fold(5),
              ]);
              record(batch);
              expect([before, expected(sent, subject)]).toContainEqual(observed(view));
            }
          }
          // Finally every subject, and the journal folded away by the reads.
          for (let i = 0; i < 3; i += 1) {
            const subject = `r${own}-s${i}`;
            expect(observed(await read(subject))).toEqual(expected(sent, subject));
          }
          expect((await services.store.journalBacklog()).events).toBe(0);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('folds in bounded transactions and deletes what it folded', async () => {
    // One subject, so that every batch is one journal row on PostgreSQL too (it writes a row per
    // subject partition) and all rows are in the one partition a fold takes them from.
    const batch = (n: number, offset: number): UsageEvent[] =>
      Array.from({ length: n }, (_, i) => ({
        subject: 'f-1',
        system: 'accounts',
        policy: 'user-account-access',
        fields: ['accounts.email'],
        at: new Date(Date.UTC(2023, 0, 1 + offset + i)).toISOString(),
      }));
    for (let i = 0; i < 3; i += 1) await services.telemetry.ingest(admin, batch(10, i * 10));
    expect(await services.store.journalBacklog()).toMatchObject({ rows: 3, events: 30 });
    // At least one row per fold, whole rows only: 15 events take two rows of ten.
    expect(await services.store.fold(15)).toEqual({ rows: 2, events: 20 });
    expect(await services.store.journalBacklog()).toMatchObject({ rows: 1, events: 10 });
    expect(await services.store.fold(1000)).toEqual({ rows: 1, events: 10 });
    expect(await services.store.fold(1000)).toEqual({ rows: 0, events: 0 });
    const uses = (await services.retention.subject(admin, 'f-1')).fields[0]?.uses ?? [];
    expect(uses.reduce((sum, use) => sum + use.count, 0)).toBe(30);
  });

  it('refuses an old event with an id once ids of its time may be forgotten, and still knows recent retries', async () => {
    const now = Date.now();
    const event = (id: string, at: number): UsageEvent => ({
      id,
      subject: 'w-1',
      system: 'accounts',
      policy: 'user-account-access',
      fields: ['accounts.email'],
      at: new Date(at).toISOString(),
    });
    const old = event('old', now - 30 * DAY);
    const recent = event('recent', now - DAY);
    expect(await services.telemetry.ingest(admin, [old, recent])).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [],
    });
    const window = new EventIdWindow(services.store, parseDuration('P7D') as Duration, 5 * 60_000);
    // Nothing is due yet: the ids were received just now, and nothing moves.
    expect(await window.run(now)).toBe(0);
    expect(await services.telemetry.ingest(admin, [old])).toMatchObject({ accepted: 0, duplicates: 1 });
    // As if the old event had been received 30 days ago: its id is due and forgotten.
    await ageEventId(backend, services, dataDir, 'old', now - 30 * DAY);
    expect(await window.run(now)).toBe(1);
    // The old event could be a retry no one can recognise now, so it is refused; without an id
    // it is counted; the recent one lies after the horizon, so its id is still known.
    const { id: _id, ...withoutId } = old;
    const retry = await services.telemetry.ingest(admin, [recent, old, withoutId]);
    expect(retry).toMatchObject({ accepted: 1, duplicates: 1 });
    expect(retry.rejected).toEqual([
      expect.objectContaining({ index: 1, code: 'EVENT_OUTSIDE_DEDUPE_WINDOW' }),
    ]);
    const uses = (await services.retention.subject(admin, 'w-1')).fields[0]?.uses ?? [];
    expect(uses.reduce((sum, use) => sum + use.count, 0)).toBe(3);
  });

  it('answers 503 INGEST_BACKLOG while the backlog is over its limit, and admits again once folded', async () => {
    const journal = new JournalFold(services.store, {
      maxEventsPerFold: 1_000,
      maxBacklogEvents: 2,
      gatherMs: 10,
      pollMs: 10_000,
    });
    const one = (subject: string): UsageEvent => ({
      subject,
      system: 'accounts',
      policy: 'user-account-access',
      fields: ['accounts.email'],
      at: '2023-01-01T00:00:00Z',
    });
    const batch = [one('b-1'), one('b-2'), one('b-3')];
    await services.telemetry.ingest(admin, batch);
    journal.appended(3);
    expect(() => journal.admit()).toThrow(
      expect.objectContaining({ code: 'INGEST_BACKLOG', retryAfterSeconds: 1 }),
    );
    expect(journal.status().backlogEvents).toBe(3);
    await journal.start();
    // The first fold starts the worker thread (from the TypeScript sources under Vitest: slower).
    await expect.poll(() => journal.status().backlogEvents, { timeout: 10_000 }).toBe(0);
    expect(() => journal.admit()).not.toThrow();
    await journal.stop();
  });
});

describe('usage journal over HTTP', () => {
  let lethe: Lethe;
  let dataDir: string;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const backend = available[0] as Backend;
    const location = await backend.create({ migrated: true });
    dataDir = location.dataDir;
    dispose = location.dispose;
    lethe = await createLethe({
      dataDir,
      journal: { maxEventsPerFold: 1_000, maxBacklogEvents: 0, gatherMs: 60_000, pollMs: 60_000 },
    });
    await loadFixtures(lethe.services);
  });
  afterAll(async () => {
    await lethe.close();
    await dispose();
  });

  it('shows the fold lag in /readyz and the metrics, and answers the backlog limit with Retry-After', async () => {
    const token = (await lethe.tokens.mint({ subject: 'test-admin', role: 'admin', ttlSeconds: 600 })).token;
    const post = () =>
      lethe.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { authorization: `Bearer ${token}` },
        payload: {
          events: [
            {
              subject: 'h-1',
              system: 'accounts',
              policy: 'user-account-access',
              fields: ['accounts.email'],
              at: '2023-01-01T00:00:00Z',
            },
          ],
        },
      });
    const first = await post();
    expect(first.statusCode, first.body).toBe(200);
    const ready = (await lethe.app.inject({ method: 'GET', url: '/readyz' })).json();
    expect(ready.usageJournal.backlogEvents).toBe(1);
    const refused = await post();
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json().error.code).toBe('INGEST_BACKLOG');
    const metrics = (await lethe.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^lethe_usage_journal_backlog_events 1$/m);
    // A read drains what was acknowledged, whatever the background fold does.
    const subject = await lethe.app.inject({
      method: 'GET',
      url: '/v1/subjects/h-1',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(subject.statusCode).toBe(200);
  });
});
