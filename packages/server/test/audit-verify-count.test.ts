import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../src/audit/audit-chain.js';
import type { AuditRow } from '../src/audit/audit-tables.js';
import { openStore, SQLITE_FILE_NAME } from '../src/store/open-store.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { runLethe } from './support/lethe-process.js';

/**
 * `lethe audit verify` counts the intact entries before the first broken one by sequence number,
 * not by position in the chunk it reads (5,000 entries at a time): a missing entry has no
 * position, which made the count one short (entry 6000 gone: "4999 before it") or −1.
 */
const ENTRIES = 6_002;
let dataDir: string;
let dispose: () => Promise<void>;

beforeAll(async () => {
  ({ dataDir, dispose } = await SQLITE_BACKEND.create());
  const store = await openStore({ dataDir });
  try {
    const record = (i: number): AuditRecord => ({
      at: 1_700_000_000_000 + i,
      actor: 'admin:test',
      action: 'policy.put',
      target: `policy:p-${i}`,
      requestId: null,
    });
    for (let start = 0; start < ENTRIES; start += 1_000) {
      const records = Array.from({ length: Math.min(1_000, ENTRIES - start) }, (_, i) => record(start + i));
      await store.transaction((repository) => repository.audit.append(records));
    }
  } finally {
    await store.close();
  }
});
afterAll(async () => dispose?.());

/** Runs `change` on the database file, verifies, and puts the entry back as it was. */
async function verifyAfter(seq: number, change: 'delete' | 'modify') {
  const db = new BetterSqlite3(join(dataDir, SQLITE_FILE_NAME));
  try {
    const row = db.prepare('select * from audit_log where seq = ?').get(seq) as AuditRow;
    if (change === 'delete') db.prepare('delete from audit_log where seq = ?').run(seq);
    else db.prepare("update audit_log set actor = 'admin:someone-else' where seq = ?").run(seq);
    try {
      return await runLethe(['audit', 'verify', '--data-dir', dataDir]);
    } finally {
      db.prepare(
        'insert or replace into audit_log values (@seq, @at, @actor, @action, @target, @request_id, @prev_hash, @hash)',
      ).run(row);
    }
  } finally {
    db.close();
  }
}

describe('lethe audit verify: the count of intact entries', { timeout: 120_000 }, () => {
  it('is the whole chain when nothing is wrong', async () => {
    const result = await runLethe(['audit', 'verify', '--data-dir', dataDir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`audit chain intact: ${ENTRIES} entries, head ${ENTRIES} `);
  });

  it.each([
    ['the first entry deleted', 1, 'delete', 'entry 1 is missing'],
    ['an early entry deleted', 3, 'delete', 'entry 3 is missing'],
    ['an entry deleted past the first chunk', 6_000, 'delete', 'entry 6000 is missing'],
    ['the last entry deleted', ENTRIES, 'delete', `entry ${ENTRIES} is missing`],
    ['the first entry of the second chunk modified', 5_001, 'modify', 'the entry was changed'],
    ['an entry modified', 42, 'modify', 'the entry was changed'],
  ] as const)('%s: entry %i broken, every entry before it intact', async (_, seq, change, reason) => {
    const result = await verifyAfter(seq, change);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`audit chain broken at entry ${seq}: ${reason}`);
    expect(result.stderr).toContain(`(${seq - 1} entries before it are intact)`);
  });
});
