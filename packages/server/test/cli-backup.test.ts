import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MasterKeyError } from '../src/auth/master-key.js';
import { DEMO_SUBJECT, loadDemoCompany } from '../src/demo/demo-company.js';
import { createLethe, type Lethe } from '../src/server.js';
import { runLethe } from './support/lethe-process.js';

/**
 * `lethe backup DIR` copies a running SQLite store (the main file and the usage journal's file)
 * into a directory that opens as a data directory once the master key is put beside it, holding
 * what the server held at the time of the copy.
 */
const scratch = mkdtempSync(join(tmpdir(), 'lethe-backup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function readSubject(lethe: Lethe): Promise<unknown> {
  const { token } = await lethe.tokens.mint({ subject: 'backup-test', role: 'admin', ttlSeconds: 600 });
  const response = await lethe.app.inject({
    method: 'GET',
    url: `/v1/subjects/${DEMO_SUBJECT}`,
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

describe('lethe backup', { timeout: 120_000 }, () => {
  it('copies a running store into a directory that opens, with the master key, and holds its data', async () => {
    const dataDir = join(scratch, 'live');
    const target = join(scratch, 'backup-1');
    const live = await createLethe({ dataDir, rateLimit: false });
    let original: unknown;
    try {
      expect(await loadDemoCompany(live.services)).toBe(true);
      original = await readSubject(live);
      // The server is still running: the copy is an online one.
      const result = await runLethe(['backup', target, '--data-dir', dataDir]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(join(target, 'lethe.db'));
      expect(result.stdout).toContain(join(target, 'lethe.journal.db'));
      expect(result.stderr).toContain(`keep a copy of ${join(dataDir, 'master.key')}`);
    } finally {
      await live.close();
    }
    expect(readdirSync(target).sort()).toEqual(['lethe.db', 'lethe.journal.db']);

    // Without the master key the backup's key material cannot be opened: that is why the
    // command says to keep the key apart.
    await expect(createLethe({ dataDir: target, rateLimit: false })).rejects.toBeInstanceOf(MasterKeyError);

    copyFileSync(join(dataDir, 'master.key'), join(target, 'master.key'));
    const restored = await createLethe({ dataDir: target, rateLimit: false });
    try {
      expect(await readSubject(restored)).toEqual(original);
    } finally {
      await restored.close();
    }
    // The audit chain came along intact.
    const verify = await runLethe(['audit', 'verify', '--data-dir', target]);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('never overwrites a backup, and sends PostgreSQL stores to pg_dump', async () => {
    const dataDir = join(scratch, 'second');
    await (await createLethe({ dataDir, rateLimit: false })).close();
    const target = join(scratch, 'backup-2');
    expect((await runLethe(['backup', target, '--data-dir', dataDir])).code).toBe(0);

    const again = await runLethe(['backup', target, '--data-dir', dataDir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists already');

    const postgres = await runLethe(['backup', join(scratch, 'backup-pg'), '--data-dir', dataDir], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
    });
    expect(postgres.code).toBe(2);
    expect(postgres.stderr).toContain('pg_dump');
    expect(existsSync(join(scratch, 'backup-pg'))).toBe(false);
  });

  it('refuses a data directory without a store, and creates nothing', async () => {
    const missing = join(scratch, 'missing');
    const result = await runLethe(['backup', join(scratch, 'backup-3'), '--data-dir', missing]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no Lethe data directory at ${missing}`);
    expect(existsSync(join(scratch, 'backup-3'))).toBe(false);
    expect(existsSync(missing)).toBe(false);
  });
});
