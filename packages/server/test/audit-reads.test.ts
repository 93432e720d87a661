import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_FILE_NAME } from '../src/store/open-store.js';
import { availableBackends } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';

/**
 * The audit of reads at volume: concurrent reads of subject data share group commits of their
 * audit entries, yet each read gets its own entry, durable and chained before its answer, and a
 * read whose entry cannot be written is refused (fail closed). On both backends.
 */
const available = await availableBackends();
const READS = 60;

describe.each(available)('audit of concurrent reads on $name', (backend) => {
  let location: Awaited<ReturnType<typeof backend.create>>;
  let lethe: Lethe;
  let token: string;

  const call = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
    lethe.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const readAll = () => Promise.all(Array.from({ length: READS }, () => call('GET', '/v1/subjects/u-1001')));
  const auditEntries = async () => {
    const items: { seq: number; action: string; target: string; requestId: string }[] = [];
    for (let after = 0; ;) {
      const page = (await call('GET', `/v1/audit?after=${after}&limit=1000`)).json();
      items.push(...page.items);
      if (page.items.length < 1000) return items;
      after = page.items.at(-1).seq;
    }
  };

  beforeAll(async () => {
    location = await backend.create({ migrated: true });
    lethe = await createLethe({ ...location, rateLimit: false });
    token = (await lethe.tokens.mint({ subject: 'reader', role: 'admin', ttlSeconds: 600 })).token;
    for (const [name, body] of Object.entries(POLICIES)) await call('PUT', `/v1/policies/${name}`, body);
    for (const [name, body] of Object.entries(SYSTEMS)) await call('PUT', `/v1/systems/${name}`, body);
    const publish = await call('POST', '/v1/events', {
      events: [usage('u-1001', 'user-account-access', ['accounts.email'], '2024-01-01T00:00:00Z')],
    });
    expect(publish.json()).toMatchObject({ accepted: 1 });
  });
  afterAll(async () => {
    await lethe?.close();
    await location?.dispose();
  });

  it('gives every read its own entry, durable and chained', async () => {
    const responses = await readAll();
    expect(responses.map((response) => response.statusCode)).toEqual(Array(READS).fill(200));
    const ids = responses.map((response) => response.headers['x-request-id']);

    // Durable: a store opened afresh on the same location holds every entry, and the chain holds.
    await lethe.close();
    lethe = await createLethe({ ...location, rateLimit: false });
    const reads = (await auditEntries()).filter((entry) => entry.action === 'subject.read');
    expect(reads.map((entry) => entry.requestId).sort()).toEqual([...ids].sort());
    for (const entry of reads) expect(entry.target).toBe('subject:u-1001');
    expect((await call('GET', '/v1/audit/verify')).json()).toMatchObject({ ok: true });
  });

  it('refuses every read whose entry cannot be written, and serves them again after', async () => {
    const before = (await auditEntries()).length;
    await auditDown(true);
    try {
      const refused = await readAll();
      for (const response of refused) {
        expect(response.statusCode).toBe(503);
        expect(response.json().error.code).toBe('AUDIT_FAILED');
        expect(response.body).not.toContain('accounts.email');
      }
      // "Lethe holds nothing about it" says something about a subject too: not without an entry.
      const unknown = await call('GET', '/v1/subjects/u-nobody');
      expect(unknown.json().error.code).toBe('AUDIT_FAILED');
    } finally {
      await auditDown(false);
    }
    expect((await readAll()).every((response) => response.statusCode === 200)).toBe(true);
    // The refused reads left no entry; the served ones one each (and the listing itself).
    const after = await auditEntries();
    expect(after.filter((entry) => entry.action === 'subject.read')).toHaveLength(2 * READS);
    expect(after.length).toBeGreaterThan(before);
    expect((await call('GET', '/v1/audit/verify')).json()).toMatchObject({ ok: true });
  });

  /** Makes every insert into the audit log fail, as a full disk or a broken table would. */
  async function auditDown(down: boolean): Promise<void> {
    if (backend.name === 'sqlite') {
      const db = new BetterSqlite3(join(location.dataDir, SQLITE_FILE_NAME));
      try {
        db.exec(
          down
            ? "create trigger audit_down before insert on audit_log begin select raise(abort, 'audit down'); end"
            : 'drop trigger audit_down',
        );
      } finally {
        db.close();
      }
      return;
    }
    const client = new pg.Client({ connectionString: location.databaseUrl });
    await client.connect();
    try {
      await client.query(
        down
          ? `create function audit_down() returns trigger language plpgsql as $$ begin raise exception 'audit down'; end $$;
             create trigger audit_down before insert on audit_log for each row execute function audit_down()`
          : 'drop trigger audit_down on audit_log; drop function audit_down()',
      );
    } finally {
      await client.end();
    }
  }
});
