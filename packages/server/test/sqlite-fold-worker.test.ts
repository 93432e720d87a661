import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { UsageEvent } from '@lethe/api';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openKeyedStore } from '../src/auth/key-material.js';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import { addDuration, parseDuration, type Duration } from '../src/lib/duration.js';
import { encodeJournalRow } from '../src/retention/journal/journal-codec.js';
import { createServices, type Services } from '../src/services.js';
import { FoldThread } from '../src/store/sqlite/sqlite-fold-thread.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { loadFixtures } from './support/fixtures.js';

/**
 * The SQLite usage journal in its own file, folded on a worker thread: appends do not wait for
 * folds, reads drain exactly, a dying worker is reported and replaced, and a data dir from before
 * the split has its journal, event ids and horizon moved over.
 */
const admin = LETHE_ITSELF;
const DAY = 86_400_000;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function open(dataDir?: string): Promise<{ services: Services; dataDir: string }> {
  const location = dataDir ? { dataDir } : await SQLITE_BACKEND.create();
  if (!dataDir) cleanup.push(() => (location as { dispose(): Promise<void> }).dispose());
  const { store, masterKey } = await openKeyedStore(location);
  const services = createServices(store, masterKey);
  cleanup.push(() => store.close());
  return { services, dataDir: location.dataDir };
}

function events(prefix: string, count: number, subjects = count): UsageEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    subject: `${prefix}-s${i % subjects}`,
    system: 'accounts',
    policy: 'user-account-access',
    fields: ['accounts.email', 'accounts.name'],
    at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
  }));
}

const uses = async (services: Services, subject: string) =>
  (await services.retention.subject(admin, subject)).fields.reduce(
    (sum, field) => sum + field.uses.reduce((n, use) => n + use.count, 0),
    0,
  );

describe('SQLite fold worker', () => {
  it('acknowledges appends while a large fold runs on the worker', async () => {
    const { services } = await open();
    await loadFixtures(services);
    for (let i = 0; i < 8; i += 1) await services.telemetry.ingest(admin, events(`big${i}`, 5_000, 2_500));
    const folding = services.store.fold(40_000);
    let foldDone = false;
    void folding.then(() => (foldDone = true));
    // Before the worker split, this append waited for the fold on the one connection.
    const appended = await services.telemetry.ingest(admin, events('during', 10));
    expect(appended.accepted).toBe(10);
    expect(foldDone).toBe(false);
    expect(await folding).toEqual({ rows: 8, events: 40_000 });
    // The read drains what the fold left (the append made during it), exactly.
    expect(await uses(services, 'during-s3')).toBe(2);
    expect(await uses(services, 'big7-s2499')).toBe(4);
    expect(await services.store.journalBacklog()).toMatchObject({ rows: 0, events: 0 });
  });

  it('reports a worker that dies, and the next fold starts a new one that folds exactly once', async () => {
    const { services, dataDir } = await open();
    await loadFixtures(services);
    await services.telemetry.ingest(admin, events('crash', 30, 3));
    const files = { main: join(dataDir, 'lethe.db'), journal: join(dataDir, 'lethe.journal.db') };
    const thread = new FoldThread(files, new URL('./support/fold-worker-once.ts', import.meta.url));
    cleanup.push(() => thread.close());
    await expect(thread.fold(1_000, Number.MAX_SAFE_INTEGER)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('exited with code 3'),
    });
    expect(existsSync(`${files.journal}.crashed`)).toBe(true);
    expect(await thread.fold(1_000, Number.MAX_SAFE_INTEGER)).toEqual({ rows: 1, events: 30 });
    expect(await thread.fold(1_000, Number.MAX_SAFE_INTEGER)).toEqual({ rows: 0, events: 0 });
    expect(await uses(services, 'crash-s0')).toBe(20);
  });

  it('fails the fold of an unreadable journal row with its reason, and /readyz-visible status, until it is gone', async () => {
    const { services, dataDir } = await open();
    await loadFixtures(services);
    await services.telemetry.ingest(admin, events('ok', 4));
    const journal = new BetterSqlite3(join(dataDir, 'lethe.journal.db'));
    journal.prepare("update usage_journal set payload = x'63000000'").run();
    await expect(services.store.fold(1_000)).rejects.toThrow(/unknown usage journal row version 99/);
    await services.journal.start();
    cleanup.push(() => services.journal.stop());
    await expect
      .poll(() => services.journal.status().foldError, { timeout: 10_000 })
      .toMatch(/unknown usage journal row version 99/);
    journal.prepare('delete from usage_journal').run();
    journal.close();
    await expect.poll(() => services.journal.status().foldError, { timeout: 10_000 }).toBeUndefined();
  });

  it('moves the journal, the event ids and the horizon of a data dir from before the split', async () => {
    const first = await open();
    await loadFixtures(first.services);
    await first.services.store.close();
    cleanup = cleanup.slice(0, 1);
    const { dataDir } = first;
    rmSync(join(dataDir, 'lethe.journal.db'));
    rmSync(join(dataDir, 'lethe.journal.db-wal'), { force: true });
    rmSync(join(dataDir, 'lethe.journal.db-shm'), { force: true });
    // The layout migration 0016 left: journal and event ids in the main file, horizon in meta.
    const at = Date.UTC(2024, 0, 1);
    const keepsUntil = addDuration(at, parseDuration('P2Y') as Duration);
    const legacy = new BetterSqlite3(join(dataDir, 'lethe.db'));
    legacy.exec(`
      create table usage_journal (seq integer primary key, appended_at bigint not null, events integer not null, payload blob not null);
      create table event_ids (id text primary key, received_at bigint not null) without rowid;
    `);
    const event = { subject: 'old-1', system: 'accounts', policy: 'user-account-access', at, keepsUntil };
    const row = encodeJournalRow([
      { ...event, fields: ['accounts.email'] },
      { ...event, fields: ['accounts.email', 'accounts.name'] },
    ]);
    legacy.prepare('insert into usage_journal values (7, ?, 2, ?)').run(Date.now(), row);
    legacy.prepare('insert into event_ids values (?, ?)').run('old-e1', Date.now());
    legacy
      .prepare("insert or replace into meta (key, value) values ('event_id_horizon', ?)")
      .run(String(at - 10 * DAY));
    legacy.prepare("delete from meta where key = 'usage_journal_folded'").run();
    legacy.close();

    const { services } = await open(dataDir);
    expect(await services.store.journalBacklog()).toMatchObject({ rows: 1, events: 2 });
    expect(await uses(services, 'old-1')).toBe(3);
    // The id is still known, the horizon still refuses what lies before it.
    const retry = { ...events('x', 1)[0]!, id: 'old-e1', subject: 'old-1' };
    const early = { ...retry, id: 'early', at: new Date(at - 20 * DAY).toISOString() };
    const answer = await services.telemetry.ingest(admin, [retry, early]);
    expect(answer).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(answer.rejected).toEqual([expect.objectContaining({ code: 'EVENT_OUTSIDE_DEDUPE_WINDOW' })]);
    // New rows are numbered after the moved one, and the main file lost its copies.
    await services.telemetry.ingest(admin, events('new', 2));
    await services.store.freshAggregates();
    const main = new BetterSqlite3(join(dataDir, 'lethe.db'), { readonly: true });
    const tables = main
      .prepare("select name from sqlite_master where name in ('usage_journal', 'event_ids')")
      .all();
    main.close();
    expect(tables).toEqual([]);
    expect(await uses(services, 'new-s1')).toBe(2);
    expect((await services.audit.verify(admin)).ok).toBe(true);
  });
});
