import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { compactVerify, createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditHash, type AuditEntry } from '../src/audit/audit-chain.js';
import { createLethe, type Lethe } from '../src/server.js';
import type { AuditRow } from '../src/audit/audit-tables.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';
import { runLethe } from './support/lethe-process.js';

/**
 * The audit log end to end on the embedded store: what is recorded, fail-closed writes, and
 * `lethe audit verify` against a database edited behind Lethe's back.
 */
let lethe: Lethe;
let dataDir: string;
let dispose: () => Promise<void>;
let token: string;

beforeAll(async () => {
  const location = await SQLITE_BACKEND.create();
  dataDir = location.dataDir;
  dispose = location.dispose;
  lethe = await createLethe({ ...location, rateLimit: false });
  token = (await lethe.tokens.mint({ subject: 'auditor-test', role: 'admin', ttlSeconds: 600 })).token;
  for (const [name, body] of Object.entries(POLICIES)) await call('PUT', `/v1/policies/${name}`, body);
  for (const [name, body] of Object.entries(SYSTEMS)) await call('PUT', `/v1/systems/${name}`, body);
});
afterAll(async () => {
  await lethe?.close();
  await dispose?.();
});

function call(method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) {
  return lethe.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

async function allEntries(): Promise<
  { seq: number; action: string; target: string; actor: string; requestId?: string }[]
> {
  const response = await call('GET', '/v1/audit?limit=1000');
  return response.json().items;
}

/** A second connection to the database file, as an intruder with file access would have. */
function withDatabase<T>(work: (db: BetterSqlite3.Database) => T): T {
  const db = new BetterSqlite3(join(dataDir, 'lethe.db'));
  try {
    return work(db);
  } finally {
    db.close();
  }
}

describe('the audit log', () => {
  it('records every change and every read of subject data, with the request id', async () => {
    const put = await call('PUT', '/v1/policies/audit-demo', {
      purpose: 'analytics.reporting',
      retention: 'P1Y',
      legalBasis: 'contract',
    });
    const publish = await call('POST', '/v1/events', {
      events: [usage('audit-subject', 'user-account-access', ['accounts.email'], '2024-01-01T00:00:00Z')],
    });
    const read = await call('GET', '/v1/subjects/audit-subject');
    const feed = await call('GET', '/v1/expiries?day=2026-01-01');
    const unchanged = await call('PUT', '/v1/policies/audit-demo', {
      purpose: 'analytics.reporting',
      retention: 'P1Y',
      legalBasis: 'contract',
    });
    expect(unchanged.statusCode).toBe(200);

    const entries = await allEntries();
    const find = (requestId: unknown) => entries.filter((e) => e.requestId === requestId);
    expect(find(put.headers['x-request-id'])).toMatchObject([
      { action: 'policy.put', target: 'policy:audit-demo', actor: 'admin:auditor-test' },
    ]);
    expect(find(publish.headers['x-request-id'])).toMatchObject([
      { action: 'events.publish', target: 'events:1 system:accounts' },
    ]);
    expect(find(read.headers['x-request-id'])).toMatchObject([
      { action: 'subject.read', target: 'subject:audit-subject' },
    ]);
    expect(find(feed.headers['x-request-id'])).toMatchObject([
      { action: 'expiries.read', target: 'expiries:day=2026-01-01' },
    ]);
    // Putting the same content changes nothing, so there is nothing to record.
    expect(find(unchanged.headers['x-request-id'])).toEqual([]);
    expect((await call('GET', '/v1/audit/verify')).json()).toMatchObject({ ok: true });
  });

  it('fails the action when its audit entry cannot be written', async () => {
    const before = (await allEntries()).length;
    let publishId: unknown;
    withDatabase((db) =>
      db.exec(
        "create trigger audit_down before insert on audit_log begin select raise(abort, 'audit store down'); end",
      ),
    );
    try {
      const put = await call('PUT', '/v1/policies/never-saved', {
        purpose: 'analytics.reporting',
        retention: 'P1Y',
        legalBasis: 'contract',
      });
      expect(put.statusCode).toBe(503);
      expect(put.json().error.code).toBe('AUDIT_FAILED');
      // The batch's entry is durable in the usage journal with its events (docs/security.md):
      // it is acknowledged, and its entry is chained when it is folded, which fails closed.
      const publish = await call('POST', '/v1/events', {
        events: [usage('folded-later', 'user-account-access', ['accounts.email'], '2024-01-01T00:00:00Z')],
      });
      expect(publish.statusCode).toBe(200);
      publishId = publish.headers['x-request-id'];
      const read = await call('GET', '/v1/subjects/audit-subject');
      expect(read.statusCode).toBe(503);
      expect(read.body).not.toContain('accounts.email');
      await expect
        .poll(async () => (await lethe.app.inject({ method: 'GET', url: '/readyz' })).json(), {
          timeout: 10_000,
        })
        .toMatchObject({
          error: { code: 'UNAVAILABLE' },
          usageJournal: { foldError: expect.stringMatching(/audit/i) },
        });
    } finally {
      withDatabase((db) => db.exec('drop trigger audit_down'));
    }
    expect((await call('GET', '/v1/policies/never-saved')).statusCode).toBe(404);
    expect((await call('GET', '/v1/subjects/folded-later')).statusCode).toBe(200);
    expect(await allEntries()).toContainEqual(
      expect.objectContaining({ action: 'events.publish', requestId: publishId }),
    );
    // The failed appends left no gap in the chain.
    const verification = (await call('GET', '/v1/audit/verify')).json();
    expect(verification).toMatchObject({ ok: true });
    expect(verification.checked).toBeGreaterThan(before);
  });

  it('signs checkpoints with a key published in the JWKS', async () => {
    const created = await call('POST', '/v1/audit/checkpoints');
    expect(created.statusCode).toBe(201);
    const checkpoint = created.json();
    const jwks = (await lethe.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    const { payload } = await compactVerify(checkpoint.signature, createLocalJWKSet(jwks));
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({
      seq: checkpoint.seq,
      hash: checkpoint.hash,
    });
    // Nothing new but the checkpoint's own entry: no second checkpoint.
    expect((await call('POST', '/v1/audit/checkpoints')).statusCode).toBe(204);
  });
});

describe('lethe audit verify', { timeout: 90_000 }, () => {
  it('names the entry that was edited in the database, and a wholesale rewrite against a kept checkpoint', async () => {
    const checkpoint = (await call('GET', '/v1/audit/checkpoints')).json().items[0];
    const kept = join(dataDir, 'kept-checkpoint.json');
    writeFileSync(kept, JSON.stringify(checkpoint));
    await lethe.close();

    const minted = await runLethe([
      'token',
      'create',
      '--role',
      'dpo',
      '--subject',
      'jo',
      '--data-dir',
      dataDir,
    ]);
    expect(minted.code, minted.stderr).toBe(0);
    const mintEntry = withDatabase(
      (db) =>
        db.prepare("select actor, target from audit_log where action = 'token.mint'").get() as
          { actor: string; target: string } | undefined,
    );
    expect(mintEntry?.target).toMatch(/^token:[0-9a-f-]{36} dpo:jo$/);
    expect(mintEntry?.target).not.toContain(minted.stdout.trim());

    const intact = await runLethe(['audit', 'verify', '--data-dir', dataDir]);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toContain('audit chain intact');

    // An intruder edits one entry: who did it.
    const edited = 3;
    withDatabase((db) =>
      db.prepare("update audit_log set actor = 'admin:someone-else' where seq = ?").run(edited),
    );
    const broken = await runLethe(['audit', 'verify', '--data-dir', dataDir]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`broken at entry ${edited}:`);

    // A careful intruder also recomputes every hash after it and drops the stored checkpoints:
    // the chain is consistent again, but no longer matches the checkpoint kept outside.
    withDatabase((db) => {
      const rows = db.prepare('select * from audit_log order by seq').all() as AuditRow[];
      let prevHash = '0'.repeat(64);
      const update = db.prepare('update audit_log set prev_hash = ?, hash = ? where seq = ?');
      for (const row of rows) {
        const entry: Omit<AuditEntry, 'hash'> = {
          seq: row.seq,
          at: row.at,
          actor: row.actor,
          action: row.action,
          target: row.target,
          requestId: row.request_id,
          prevHash,
        };
        const hash = auditHash(entry);
        update.run(prevHash, hash, row.seq);
        prevHash = hash;
      }
      db.prepare('update audit_head set hash = ? where id = 1').run(prevHash);
      db.exec('delete from audit_checkpoints');
    });
    const rewritten = await runLethe(['audit', 'verify', '--data-dir', dataDir]);
    expect(rewritten.code, 'a consistent rewrite passes without an outside copy').toBe(0);
    const caught = await runLethe(['audit', 'verify', '--data-dir', dataDir, '--checkpoint', kept]);
    expect(caught.code).toBe(1);
    expect(caught.stderr).toContain(`broken at entry ${checkpoint.seq}: entry ${checkpoint.seq} differs`);
  });
});
