import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createLethe } from '../src/server.js';
import { availableBackends, type Backend } from './support/backends.js';
import { runLethe } from './support/lethe-process.js';

/**
 * Only `lethe serve` creates a store. Every other command that opens one (`token create`,
 * `audit verify`) refuses a data dir or a database that holds no Lethe store yet, instead of
 * creating an empty one and answering from it: a mistyped `--data-dir` minted a token nobody's
 * server accepts, and exited 0.
 */
const scratch = mkdtempSync(join(tmpdir(), 'lethe-store-location-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const COMMANDS: readonly string[][] = [
  ['token', 'create', '--role', 'admin'],
  ['audit', 'verify'],
];

const [, postgres] = await availableBackends();

describe('commands that open an existing store', { timeout: 90_000 }, () => {
  it.each(COMMANDS)(
    'lethe %s %s refuses a data dir that does not exist, and creates nothing',
    async (...command: string[]) => {
      const mistyped = join(scratch, `mistyped-${command[0]}`);
      const result = await runLethe([...command, '--data-dir', mistyped]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(
        `lethe ${command[0]} ${command[1]}: no Lethe data directory at ${mistyped}; ` +
          'pass --data-dir or set LETHE_DATA_DIR (the server logs its own)',
      );
      expect(existsSync(mistyped)).toBe(false);
    },
  );

  it.each(COMMANDS)(
    'lethe %s %s refuses a directory without a store in it, and leaves it empty',
    async (...command: string[]) => {
      const empty = join(scratch, `empty-${command[0]}`);
      mkdirSync(empty);
      const result = await runLethe([...command, '--data-dir', empty]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`no Lethe store in ${empty}`);
      expect(readdirSync(empty)).toEqual([]);
    },
  );

  it('both work on a store that `lethe serve` (createLethe) made', async () => {
    const dataDir = join(scratch, 'served');
    await (await createLethe({ dataDir })).close();
    for (const command of COMMANDS) {
      const result = await runLethe([...command, '--data-dir', dataDir]);
      expect(result.code, result.stderr).toBe(0);
    }
  });

  it.skipIf(!postgres)(
    "on PostgreSQL, a database without Lethe's schema is refused, not migrated",
    async () => {
      const location = await (postgres as Backend).create();
      try {
        for (const command of COMMANDS) {
          const result = await runLethe([...command, '--data-dir', location.dataDir], {
            DATABASE_URL: location.databaseUrl,
          });
          expect(result.code).toBe(1);
          expect(result.stderr).toContain(`lethe ${command[0]} ${command[1]}: no Lethe store in postgres `);
          expect(result.stderr).toContain('lethe serve');
        }
        const client = new pg.Client({ connectionString: location.databaseUrl });
        await client.connect();
        try {
          const tables = await client.query(
            "select table_name from information_schema.tables where table_schema = 'public'",
          );
          expect(tables.rows).toEqual([]);
        } finally {
          await client.end();
        }
        expect(readdirSync(location.dataDir)).toEqual([]);
      } finally {
        await location.dispose();
      }
    },
  );
});
