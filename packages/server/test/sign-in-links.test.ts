import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKeyedStore } from '../src/auth/key-material.js';
import type { Principal } from '../src/auth/principal.js';
import { createSignInCode, hashSignInCode } from '../src/session/sign-in-codes.js';
import type { MintRequest } from '../src/auth/tokens.js';
import { createLethe, type Lethe } from '../src/server.js';
import { availableBackends, SQLITE_BACKEND } from './support/backends.js';
import { runLethe } from './support/lethe-process.js';

/**
 * One-time sign-in links: `lethe token create --link` stores a code, `POST /v1/session/exchange`
 * trades it for a token once. Real stores (SQLite and PostgreSQL), real HTTP handling via inject.
 */

const CREATOR: Principal = { id: 'cli:alice', role: 'admin' };
const DPO: MintRequest = {
  subject: 'linda',
  role: 'dpo',
  categories: ['user.contact'],
  grants: ['subject-ids'],
  ttlSeconds: 900,
};

function exchange(lethe: Lethe, code: unknown, remoteAddress = '127.0.0.1') {
  return lethe.app.inject({
    method: 'POST',
    url: '/v1/session/exchange',
    payload: { code },
    remoteAddress,
  });
}

/** Every audit entry, oldest first. */
async function auditLog(lethe: Lethe) {
  return lethe.services.store.repository.audit.entries(0, 10_000);
}

for (const backend of await availableBackends()) {
  describe(`sign-in links on ${backend.name}`, () => {
    let lethe: Lethe;
    let dispose: () => Promise<void>;

    beforeAll(async () => {
      const location = await backend.create({ migrated: true });
      lethe = await createLethe({ ...location, rateLimit: false });
      dispose = async () => {
        await lethe.close();
        await location.dispose();
      };
    });
    afterAll(() => dispose?.());

    it('trades a code for the token it was made for, once; the token lives its ttl from the exchange', async () => {
      // Made five minutes ago: the token's lifetime still counts from the exchange.
      const made = Date.now() - 5 * 60_000;
      const link = await createSignInCode(lethe.services.store, CREATOR, DPO, { now: () => made });
      expect(link.code).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const before = Date.now();
      const first = await exchange(lethe, link.code);
      expect(first.statusCode, first.body).toBe(200);
      expect(first.headers['cache-control']).toBe('no-store');
      const { token, expiresAt } = first.json<{ token: string; expiresAt: string }>();
      const claims = decodeJwt(token);
      expect(Date.parse(expiresAt)).toBe((claims.exp ?? 0) * 1000);
      expect((claims.exp ?? 0) * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(900);

      const session = await lethe.app.inject({
        method: 'GET',
        url: '/v1/session',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(session.json()).toMatchObject({
        subject: 'linda',
        role: 'dpo',
        categories: ['user.contact'],
        grants: ['subject-ids'],
      });

      const second = await exchange(lethe, link.code);
      expect(second.statusCode).toBe(401);
      expect(second.json().error.code).toBe('SIGN_IN_CODE_INVALID');
    });

    it('answers an unknown, a used and an expired code alike', async () => {
      const used = await createSignInCode(lethe.services.store, CREATOR, DPO);
      expect((await exchange(lethe, used.code)).statusCode).toBe(200);
      // Made eleven minutes ago with the default ten-minute lifetime.
      const expired = await createSignInCode(lethe.services.store, CREATOR, DPO, {
        now: () => Date.now() - 11 * 60_000,
      });
      const unknown = Buffer.alloc(32, 7).toString('base64url');
      const answers = [];
      for (const code of [unknown, used.code, expired.code]) {
        const response = await exchange(lethe, code);
        expect(response.statusCode).toBe(401);
        const { code: errorCode, message } = response.json().error;
        answers.push({ errorCode, message });
      }
      expect(answers[0]).toEqual({
        errorCode: 'SIGN_IN_CODE_INVALID',
        message: 'The sign-in link is unknown, already used or expired; ask for a new one.',
      });
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    });

    it('refuses to store a link whose token could not be minted, or that would live too long', async () => {
      const { store } = lethe.services;
      const attempts: [MintRequest, number | undefined, string][] = [
        [{ ...DPO, categories: ['Not A Category'] }, undefined, 'VALIDATION_FAILED'],
        [{ ...DPO, ttlSeconds: 13 * 3600 }, undefined, 'TOKEN_LIFETIME_TOO_LONG'],
        [{ subject: 's', role: 'service', ttlSeconds: 60 }, undefined, 'VALIDATION_FAILED'],
        [DPO, 2 * 3600, 'VALIDATION_FAILED'],
      ];
      const before = await store.repository.db.selectFrom('sign_in_codes').select('id').execute();
      for (const [token, lifetimeSeconds, code] of attempts) {
        await expect(
          createSignInCode(store, CREATOR, token, lifetimeSeconds ? { lifetimeSeconds } : {}),
        ).rejects.toMatchObject({ code });
      }
      const after = await store.repository.db.selectFrom('sign_in_codes').select('id').execute();
      expect(after).toEqual(before);
    });

    it('is in the OpenAPI document as a route without a token', async () => {
      const openapi = (await lethe.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const operation = openapi.paths['/v1/session/exchange'].post;
      expect(operation.security).toEqual([]);
      const body = operation.requestBody.content['application/json'].schema;
      expect(body).toEqual({ $ref: '#/components/schemas/SignInExchange' });
      expect(openapi.components.schemas.SignInExchange.required).toEqual(['code']);
    });

    it('refuses a body that is no code with 400, not 500', async () => {
      for (const payload of [{}, { code: 'short' }, { code: 'a'.repeat(30) + '!' }, { code: 42 }]) {
        const response = await lethe.app.inject({ method: 'POST', url: '/v1/session/exchange', payload });
        expect(response.statusCode, JSON.stringify(payload)).toBe(400);
        expect(response.json().error.code).toBe('VALIDATION_FAILED');
      }
    });

    it('keeps only a hash of the code, and nothing of a used one', async () => {
      const link = await createSignInCode(lethe.services.store, CREATOR, DPO);
      const { db } = lethe.services.store.repository;
      const rows = await db.selectFrom('sign_in_codes').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(link.code);
      const stored = rows.find((row) => row.id === link.id);
      expect(stored?.code_hash).toBe(hashSignInCode(link.code));
      expect(stored).toMatchObject({ subject: 'linda', role: 'dpo', created_by: 'admin:cli:alice' });

      expect((await exchange(lethe, link.code)).statusCode).toBe(200);
      const after = await db.selectFrom('sign_in_codes').select('id').where('id', '=', link.id).execute();
      expect(after).toEqual([]);
    });

    it('audits the link and the token it gave, never the code', async () => {
      const link = await createSignInCode(lethe.services.store, CREATOR, DPO);
      const response = await exchange(lethe, link.code);
      const jti = decodeJwt(response.json().token).jti;
      const entries = await auditLog(lethe);
      const created = entries.filter((entry) => entry.target.includes(`sign-in:${link.id}`));
      expect(created.map((entry) => [entry.action, entry.actor])).toEqual([
        ['sign-in.create', 'admin:cli:alice'],
        ['token.mint', 'admin:cli:alice'],
      ]);
      expect(created[1]?.target).toBe(`token:${jti} dpo:linda sign-in:${link.id}`);
      // The exchange's request id ties the entry to the server's log line of that request.
      expect(created[1]?.requestId).toBe(response.headers['x-request-id']);
      expect(JSON.stringify(entries)).not.toContain(link.code);
    });

    it('lets exactly one of many concurrent exchanges of one code win', async () => {
      for (let round = 0; round < 5; round += 1) {
        const link = await createSignInCode(lethe.services.store, CREATOR, DPO);
        const responses = await Promise.all(Array.from({ length: 8 }, () => exchange(lethe, link.code)));
        const statuses = responses.map((response) => response.statusCode).sort();
        expect(statuses).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
        const mints = (await auditLog(lethe)).filter(
          (entry) => entry.action === 'token.mint' && entry.target.endsWith(`sign-in:${link.id}`),
        );
        expect(mints).toHaveLength(1);
      }
    });
  });
}

describe('the exchange’s rate limit', () => {
  let lethe: Lethe;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const location = await SQLITE_BACKEND.create({ migrated: true });
    lethe = await createLethe({ ...location, rateLimit: { requestsPerSecond: 0.01, burst: 3 } });
    dispose = async () => {
      await lethe.close();
      await location.dispose();
    };
  });
  afterAll(() => dispose?.());

  it('limits each client address on its own, apart from tokens', async () => {
    const guess = Buffer.alloc(32, 1).toString('base64url');
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await exchange(lethe, guess, '203.0.113.7');
      expect(response.statusCode).toBe(401);
      expect(response.headers['ratelimit-remaining']).toBe(String(2 - attempt));
    }
    const limited = await exchange(lethe, guess, '203.0.113.7');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right code waits: the limit comes before the code is looked at.
    const link = await createSignInCode(lethe.services.store, CREATOR, DPO);
    expect((await exchange(lethe, link.code, '203.0.113.7')).statusCode).toBe(429);
    // Another address has its own bucket, and the code is still unused.
    expect((await exchange(lethe, link.code, '198.51.100.9')).statusCode).toBe(200);
    // A token's bucket is not the address's.
    const token = (await lethe.tokens.mint({ subject: 'a', role: 'admin', ttlSeconds: 60 })).token;
    const withToken = await lethe.app.inject({
      method: 'GET',
      url: '/v1/session',
      headers: { authorization: `Bearer ${token}` },
      remoteAddress: '203.0.113.7',
    });
    expect(withToken.statusCode).toBe(200);
  });
});

describe('lethe token create --link', { timeout: 60_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-sign-in-cli-'));
  // The store exists before `token create` opens it, as after a first `lethe serve`.
  beforeAll(async () => (await createLethe({ dataDir, rateLimit: false })).close());
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints a one-time code link, mints no token, and the server trades the code once', async () => {
    const result = await runLethe([
      'token',
      'create',
      '--role',
      'auditor',
      '--grant',
      'subject-ids',
      '--subject',
      'ines',
      '--ttl',
      '2h',
      '--link',
      '--url',
      'https://lethe.example.org/',
      '--link-ttl',
      '5m',
      '--data-dir',
      dataDir,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const link = result.stdout.trim();
    expect(link).toMatch(/^https:\/\/lethe\.example\.org\/sign-in#code=[A-Za-z0-9_-]{43}$/);
    // No token anywhere in what the CLI said (a JWT starts with `eyJ`).
    expect(result.stdout + result.stderr).not.toContain('eyJ');
    expect(result.stderr).toContain('usable once until');
    const code = link.split('#code=')[1] ?? '';

    const { store } = await openKeyedStore({ dataDir });
    try {
      const rows = await store.repository.db.selectFrom('sign_in_codes').selectAll().execute();
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(row).toMatchObject({ code_hash: hashSignInCode(code), role: 'auditor', subject: 'ines' });
      expect(row.ttl_seconds).toBe(7200);
      expect(row.expires_at - row.created_at).toBe(5 * 60_000);
      const entries = await store.repository.audit.entries(0, 100);
      expect(entries.map((entry) => entry.action)).toContain('sign-in.create');
      expect(entries.map((entry) => entry.action)).not.toContain('token.mint');
      expect(JSON.stringify(entries)).not.toContain(code);
    } finally {
      await store.close();
    }

    const lethe = await createLethe({ dataDir, rateLimit: false });
    try {
      const first = await exchange(lethe, code);
      expect(first.statusCode, first.body).toBe(200);
      const claims = decodeJwt(first.json().token);
      expect(claims).toMatchObject({ sub: 'ines', role: 'auditor', grants: ['subject-ids'] });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(7200);
      expect((await exchange(lethe, code)).statusCode).toBe(401);
    } finally {
      await lethe.close();
    }
  });

  it('refuses --link-ttl without --link, or beyond an hour (exit 2)', async () => {
    for (const args of [
      ['--link-ttl', '5m'],
      ['--link', '--link-ttl', '2h'],
      ['--link', '--link-ttl', '0s'],
      ['--link', '--link-ttl', 'soon'],
    ]) {
      const result = await runLethe(['token', 'create', '--role', 'dpo', '--data-dir', dataDir, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout, args.join(' ')).toBe('');
      expect(result.stderr, args.join(' ')).toContain('--link-ttl');
    }
  });
});
