import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_FILE_NAME } from '../src/store/open-store.js';
import { SQLITE_BACKEND } from './support/backends.js';

/**
 * Finding 7 of issue 16: while another process (a CLI command such as `token create`) wrote the
 * same SQLite file, API writes failed at once with "database is locked". A transaction that read
 * before it wrote could not take the write lock once its snapshot was stale, and SQLite does not
 * call the busy handler for that; every store transaction must take the write lock at BEGIN.
 */

const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

/** Another process holds a write transaction on `file` for `holdMs`, like a CLI command would. */
function holdWriteLock(file: string, holdMs: number): Promise<{ done: Promise<number | null> }> {
  const script = `
    const Database = require(${JSON.stringify(betterSqlite)});
    const db = new Database(${JSON.stringify(file)});
    db.exec('begin immediate');
    db.exec('create table if not exists lock_probe (x integer)');
    db.exec('insert into lock_probe values (1)');
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('commit'); db.close(); }, ${holdMs});
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolve({ done });
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited early (${String(code)})`)));
  });
}

describe('SQLite with a second writer process', () => {
  let lethe: Lethe;
  let file: string;
  let dispose: () => Promise<void>;
  let token: string;

  beforeAll(async () => {
    const location = await SQLITE_BACKEND.create();
    file = join(location.dataDir, SQLITE_FILE_NAME);
    lethe = await createLethe(location);
    token = (await lethe.tokens.mint({ subject: 'alice', role: 'admin', ttlSeconds: 600 })).token;
    dispose = async () => {
      await lethe.close();
      await location.dispose();
    };
  });
  afterAll(() => dispose());

  it('waits for the other writer instead of answering 500', async () => {
    const statuses: number[] = [];
    for (let round = 0; round < 3; round++) {
      const holder = await holdWriteLock(file, 300);
      const writes = Array.from({ length: 5 }, (_, i) =>
        lethe.app.inject({
          method: 'PUT',
          url: `/v1/systems/system-${round}-${i}`,
          headers: { authorization: `Bearer ${token}` },
          payload: { team: 'team-a', description: 'written while a CLI holds the lock' },
        }),
      );
      for (const response of await Promise.all(writes)) statuses.push(response.statusCode);
      expect(await holder.done).toBe(0);
    }
    expect(statuses).toEqual(Array.from({ length: 15 }, () => 201));
  }, 30_000);
});
