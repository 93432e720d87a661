import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { externalIssuerFromEnv, parseRoleMap } from '../src/auth/external-issuer.js';
import type { Principal } from '../src/auth/principal.js';
import { keyRotationFromEnv, PUBLISH_AHEAD_MS, RETIRED_KEY_GRACE_MS } from '../src/auth/signing-keys.js';
import { createLethe, type Lethe, type LetheOptions } from '../src/server.js';
import { ALL_BACKENDS, availableBackends, SQLITE_BACKEND } from './support/backends.js';

/**
 * Signing-key rotation, the JWKS, external OIDC issuers and the categories/grants claims, on
 * real SQLite through Fastify's inject. Time is the injected clock, moved by the tests.
 */

const HOUR = 60 * 60 * 1000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

interface Instance {
  lethe: Lethe;
  clock: { now: number };
  dispose(): Promise<void>;
}

const open: Instance[] = [];
afterEach(async () => {
  for (const instance of open.splice(0)) await instance.dispose();
});

async function start(options: Partial<LetheOptions> = {}): Promise<Instance> {
  const location = await SQLITE_BACKEND.create();
  const clock = { now: T0 };
  const lethe = await createLethe({ ...location, now: () => clock.now, rateLimit: false, ...options });
  const instance = {
    lethe,
    clock,
    async dispose() {
      await lethe.close();
      await location.dispose();
    },
  };
  open.push(instance);
  return instance;
}

function get(lethe: Lethe, url: string, token?: string) {
  return lethe.app.inject({
    method: 'GET',
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

async function admin(lethe: Lethe, ttlSeconds = 600): Promise<string> {
  return (await lethe.tokens.mint({ subject: 'test-admin', role: 'admin', ttlSeconds })).token;
}

async function status(lethe: Lethe, token: string): Promise<number | string> {
  const response = await get(lethe, '/v1/policies', token);
  return response.statusCode === 200 ? 200 : response.json<{ error: { code: string } }>().error.code;
}

function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string };
  return header.kid;
}

async function jwksKids(lethe: Lethe): Promise<string[]> {
  const response = await get(lethe, '/.well-known/jwks.json');
  expect(response.statusCode).toBe(200);
  return response
    .json<{ keys: { kid: string }[] }>()
    .keys.map((key) => key.kid)
    .sort();
}

async function secretKids(lethe: Lethe): Promise<string[]> {
  const rows = await lethe.services.store.repository.db
    .selectFrom('signing_key_secrets')
    .select('kid')
    .execute();
  return rows.map((row) => row.kid).sort();
}

async function pendingKids(lethe: Lethe, now: number): Promise<string[]> {
  const rows = await lethe.services.store.repository.signingKeys.list();
  return rows
    .filter((row) => row.retired_at === null && row.revoked_at === null && (row.activates_at ?? 0) > now)
    .map((row) => row.kid);
}

describe('signing-key rotation', () => {
  it('publishes the next key an hour before it signs, then signs with it from its activation', async () => {
    expect(PUBLISH_AHEAD_MS).toBe(HOUR);
    const { lethe, clock } = await start();
    const oldKid = kidOf(await admin(lethe)); // creates the first key at T0

    // Nothing to do before the lead time.
    clock.now = T0 + 23 * HOUR - 1;
    expect(await lethe.services.keys.rotateIfDue()).toBeUndefined();

    clock.now = T0 + 23 * HOUR;
    const rotation = (await lethe.services.keys.rotateIfDue())!;
    expect(rotation).toEqual({
      kid: expect.any(String),
      createdAt: T0 + 23 * HOUR,
      activatesAt: T0 + 24 * HOUR,
      previous: { kid: oldKid, verifiesUntil: T0 + 24 * HOUR + RETIRED_KEY_GRACE_MS, revoked: false },
    });
    // Published and verifiable, its private half stored wrapped, but not signing yet.
    expect(await jwksKids(lethe)).toEqual([oldKid, rotation.kid].sort());
    expect(await lethe.services.keys.verificationKey(rotation.kid)).toBeDefined();
    const secrets = await lethe.services.store.repository.signingKeys.secrets();
    expect(secrets.find((row) => row.kid === rotation.kid)?.private_jwk).toMatch(/^v1\./);
    expect(kidOf(await admin(lethe))).toBe(oldKid);
    clock.now = T0 + 24 * HOUR - 1;
    expect(kidOf(await admin(lethe))).toBe(oldKid);
    expect(await lethe.services.keys.rotateIfDue()).toBeUndefined(); // one pending key is enough

    // From its activation it signs, even before the next check records the old key's retirement.
    clock.now = T0 + 24 * HOUR;
    const fresh = await admin(lethe);
    expect(kidOf(fresh)).toBe(rotation.kid);
    expect(await status(lethe, fresh)).toBe(200);
  });

  it('retires the previous key at the activation instant and keeps it verifying for its window', async () => {
    const { lethe, clock } = await start();
    const oldKid = kidOf(await admin(lethe));
    clock.now = T0 + 23 * HOUR;
    const rotation = (await lethe.services.keys.rotateIfDue())!;
    const longLived = await admin(lethe, 12 * 3600); // signed by the old key, expires at T0 + 35 h
    expect(kidOf(longLived)).toBe(oldKid);

    // The check runs a little after the activation; the retirement counts from the activation.
    clock.now = T0 + 24 * HOUR + 30_000;
    expect(await lethe.services.keys.rotateIfDue()).toBeUndefined();
    const rows = await lethe.services.store.repository.signingKeys.list();
    expect(rows.find((row) => row.kid === oldKid)?.retired_at).toBe(T0 + 24 * HOUR);
    expect(rows.find((row) => row.kid === rotation.kid)?.retired_at).toBeNull();
    expect(kidOf(await admin(lethe))).toBe(rotation.kid);

    // The old key's token is still good after the rotation...
    clock.now = T0 + 34 * HOUR;
    expect(await status(lethe, longLived)).toBe(200);
    expect(await jwksKids(lethe)).toEqual([oldKid, rotation.kid].sort());

    // ...and the key verifies up to retired_at + 12 h + 60 s, then drops out.
    clock.now = T0 + 24 * HOUR + RETIRED_KEY_GRACE_MS;
    expect(await lethe.services.keys.verificationKey(oldKid)).toBeDefined();
    clock.now += 1;
    expect(await lethe.services.keys.verificationKey(oldKid)).toBeUndefined();
    expect(await status(lethe, longLived)).toBe('TOKEN_INVALID');
    expect(await jwksKids(lethe)).toEqual([rotation.kid]);
    // The next rotation counts from the activation, not from the creation.
    clock.now = T0 + 47 * HOUR - 1;
    expect(await lethe.services.keys.rotateIfDue()).toBeUndefined();
    clock.now = T0 + 47 * HOUR;
    expect((await lethe.services.keys.rotateIfDue())?.activatesAt).toBe(T0 + 48 * HOUR);
  });

  it('gives a late check a full lead before the next key signs', async () => {
    const { lethe, clock } = await start();
    const oldKid = kidOf(await admin(lethe));
    clock.now = T0 + 30 * HOUR; // the server was down when the key was due
    const rotation = (await lethe.services.keys.rotateIfDue())!;
    expect(rotation.activatesAt).toBe(T0 + 31 * HOUR);
    expect(kidOf(await admin(lethe))).toBe(oldKid);
    clock.now = T0 + 31 * HOUR;
    expect(kidOf(await admin(lethe))).toBe(rotation.kid);
  });

  it('publishes exactly the verifying public keys at /.well-known/jwks.json, without a token', async () => {
    const { lethe, clock } = await start();
    expect(await jwksKids(lethe)).toEqual([]);
    const kid = kidOf(await admin(lethe));
    const response = await get(lethe, '/.well-known/jwks.json');
    const { keys } = response.json<{ keys: JWK[] }>();
    expect(keys).toEqual([
      { kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid, alg: 'EdDSA', use: 'sig' },
    ]);
    expect(keys[0]).not.toHaveProperty('d');
    expect(response.headers['cache-control']).toMatch(/max-age=\d+/);

    clock.now = T0 + 25 * HOUR;
    const rotation = (await lethe.services.keys.rotateIfDue())!;
    expect(await jwksKids(lethe)).toEqual([kid, rotation.kid].sort());
    clock.now = T0 + 50 * HOUR; // past the first key's window; the second key is due too
    const second = (await lethe.services.keys.rotateIfDue())!;
    expect(second.previous?.kid).toBe(rotation.kid);
    expect(await jwksKids(lethe)).toEqual([rotation.kid, second.kid].sort());
    // The public halves stay in the store for checking old signed audit checkpoints.
    expect(await lethe.services.store.repository.signingKeys.publicKey(kid)).toBeDefined();
  });

  it('destroys the private half of a retired key and keeps its public half', async () => {
    const { lethe, clock } = await start();
    const oldKid = kidOf(await admin(lethe));
    expect(await secretKids(lethe)).toEqual([oldKid]);
    clock.now = T0 + 23 * HOUR;
    const rotation = (await lethe.services.keys.rotateIfDue())!;
    expect(await secretKids(lethe)).toEqual([oldKid, rotation.kid].sort());
    clock.now = T0 + 24 * HOUR;
    await lethe.services.keys.rotateIfDue();
    expect(await secretKids(lethe)).toEqual([rotation.kid]);
    const publicRows = await lethe.services.store.repository.signingKeys.list();
    expect(publicRows.map((row) => row.kid).sort()).toEqual([oldKid, rotation.kid].sort());
    expect(publicRows.find((row) => row.kid === oldKid)?.retired_at).toBe(T0 + 24 * HOUR);
  });

  it('creates one pending key when checks race, and retires the old key once', async () => {
    const { lethe, clock } = await start();
    await admin(lethe);
    const race = () =>
      Promise.all([
        lethe.services.keys.rotateIfDue(),
        lethe.services.keys.rotateIfDue(),
        lethe.services.keys.rotateIfDue(),
      ]);
    clock.now = T0 + 23 * HOUR;
    const results = await race();
    expect(results.filter((result) => result !== undefined)).toHaveLength(1);
    expect(await lethe.services.store.repository.signingKeys.list()).toHaveLength(2);
    expect(await pendingKids(lethe, clock.now)).toEqual([results.find(Boolean)!.kid]);
    clock.now = T0 + 24 * HOUR;
    expect(await race()).toEqual([undefined, undefined, undefined]);
    const rows = await lethe.services.store.repository.signingKeys.list();
    expect(rows).toHaveLength(2);
    expect(rows.filter((row) => row.retired_at === null)).toHaveLength(1);
  });

  it('deletes a pending key on a manual rotation, also with revokePrevious', async () => {
    const { lethe, clock } = await start();
    const oldKid = kidOf(await admin(lethe));
    clock.now = T0 + 23 * HOUR;
    const pending = (await lethe.services.keys.rotateIfDue())!;
    const token = await admin(lethe);
    expect(await jwksKids(lethe)).toEqual([oldKid, pending.kid].sort());
    const response = await lethe.app.inject({
      method: 'POST',
      url: '/v1/keys/rotate',
      headers: { authorization: `Bearer ${token}` },
      payload: { revokePrevious: true },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ kid: string; previous: { kid: string; revoked: boolean } }>();
    expect(body.previous).toMatchObject({ kid: oldKid, revoked: true });
    // The pending key is gone, both halves; the new key signs at once.
    const rows = await lethe.services.store.repository.signingKeys.list();
    expect(rows.map((row) => row.kid).sort()).toEqual([oldKid, body.kid].sort());
    expect(await secretKids(lethe)).toEqual([body.kid]);
    expect(await jwksKids(lethe)).toEqual([body.kid]);
    expect(await lethe.services.keys.verificationKey(pending.kid)).toBeUndefined();
    expect(kidOf(await admin(lethe))).toBe(body.kid);
    // The pending key's activation time passes without effect; the new key is due 24 h after now.
    clock.now = T0 + 24 * HOUR;
    expect(await lethe.services.keys.rotateIfDue()).toBeUndefined();
    expect(kidOf(await admin(lethe))).toBe(body.kid);
  });

  it('POST /v1/keys/rotate rotates now and is audited in the same transaction', async () => {
    const { lethe } = await start();
    const token = await admin(lethe);
    const oldKid = kidOf(token);
    const response = await lethe.app.inject({
      method: 'POST',
      url: '/v1/keys/rotate', // a bare POST: no body means {}
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ kid: string; createdAt: string; previous: unknown }>();
    expect(body).toEqual({
      kid: expect.any(String),
      createdAt: new Date(T0).toISOString(),
      previous: {
        kid: oldKid,
        verifiesUntil: new Date(T0 + RETIRED_KEY_GRACE_MS).toISOString(),
        revoked: false,
      },
    });
    expect(await status(lethe, token)).toBe(200); // the old key still verifies
    expect(kidOf(await admin(lethe))).toBe(body.kid);

    const entries = await lethe.services.store.repository.audit.entries(0, 100);
    expect(entries).toContainEqual(
      expect.objectContaining({
        action: 'keys.rotate',
        target: `key:${body.kid}`,
        actor: 'admin:test-admin',
      }),
    );
  });

  it('with revokePrevious refuses the old key at once and destroys it', async () => {
    const { lethe } = await start();
    const token = await admin(lethe);
    const oldKid = kidOf(token);
    const response = await lethe.app.inject({
      method: 'POST',
      url: '/v1/keys/rotate',
      headers: { authorization: `Bearer ${token}` },
      payload: { revokePrevious: true },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ kid: string; previous: { revoked: boolean; verifiesUntil: string } }>();
    expect(body.previous).toEqual({ kid: oldKid, verifiesUntil: new Date(T0).toISOString(), revoked: true });
    expect(await status(lethe, token)).toBe('TOKEN_INVALID');
    expect(await jwksKids(lethe)).toEqual([body.kid]);
    expect(await secretKids(lethe)).toEqual([body.kid]);
    const entries = await lethe.services.store.repository.audit.entries(0, 100);
    expect(entries.map((entry) => `${entry.action} ${entry.target}`)).toEqual(
      expect.arrayContaining([`keys.rotate key:${body.kid}`, `keys.revoke key:${oldKid}`]),
    );
    expect(await status(lethe, await admin(lethe))).toBe(200);
  });

  it('lets only admins rotate, at the HTTP edge and in the service', async () => {
    const { lethe } = await start();
    const dpo = (await lethe.tokens.mint({ subject: 'd', role: 'dpo', ttlSeconds: 600 })).token;
    const response = await lethe.app.inject({
      method: 'POST',
      url: '/v1/keys/rotate',
      headers: { authorization: `Bearer ${dpo}` },
      payload: {},
    });
    expect(response.statusCode).toBe(403);
    const principal: Principal = { id: 'd', role: 'dpo' };
    await expect(lethe.services.keys.rotate(principal)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await lethe.services.store.repository.signingKeys.list()).toHaveLength(1);
  });

  it('refuses unknown body properties on rotate', async () => {
    const { lethe } = await start();
    const response = await lethe.app.inject({
      method: 'POST',
      url: '/v1/keys/rotate',
      headers: { authorization: `Bearer ${await admin(lethe)}` },
      payload: { revoke: true },
    });
    expect(response.statusCode).toBe(400);
  });
});

const postgres = (await availableBackends()).includes(ALL_BACKENDS[1]!);

describe.skipIf(!postgres)('signing keys shared by two processes on PostgreSQL', () => {
  it('publishes one pending key when both race, and a revocation by one reaches the other within a second', async () => {
    const location = await ALL_BACKENDS[1]!.create();
    const clock = { now: T0 };
    const options = { ...location, now: () => clock.now, rateLimit: false as const };
    const one = await createLethe(options);
    const two = await createLethe(options);
    try {
      const oldToken = await admin(one);
      expect(await status(two, oldToken)).toBe(200);
      const race = () => Promise.all([one.services.keys.rotateIfDue(), two.services.keys.rotateIfDue()]);
      clock.now = T0 + 23 * HOUR;
      const results = await race();
      expect(results.filter((result) => result !== undefined)).toHaveLength(1);
      const next = results.find(Boolean)!.kid;
      expect(await one.services.store.repository.signingKeys.list()).toHaveLength(2);
      expect(await pendingKids(one, clock.now)).toEqual([next]);
      const rotations = (await one.services.store.repository.audit.entries(0, 100)).filter(
        (entry) => entry.action === 'keys.rotate',
      );
      expect(rotations).toHaveLength(1);
      expect(kidOf(await admin(two))).toBe(kidOf(oldToken)); // both still sign with the old key
      expect(await one.services.keys.verificationKey(next)).toBeDefined();

      clock.now = T0 + 24 * HOUR;
      expect(await race()).toEqual([undefined, undefined]);
      const current = await admin(one);
      expect(kidOf(current)).toBe(next);
      expect(kidOf(await admin(two))).toBe(next);
      expect(await status(one, current)).toBe(200); // cached by the first process

      // The next pending key, known to the first process, dies with the revocation by the second.
      clock.now = T0 + 47 * HOUR;
      const pending = (await race()).find(Boolean)!.kid;
      expect(await one.services.keys.verificationKey(pending)).toBeDefined();

      const response = await two.app.inject({
        method: 'POST',
        url: '/v1/keys/rotate',
        headers: { authorization: `Bearer ${await admin(two)}` },
        payload: { revokePrevious: true },
      });
      expect(response.statusCode).toBe(200);
      expect(await status(two, current)).toBe('TOKEN_INVALID');
      // The other process reloads a shared store's keys at most a second later.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await status(one, current)).toBe('TOKEN_INVALID');
      expect(await one.services.keys.verificationKey(pending)).toBeUndefined();
      expect((await one.services.keys.jwks()).keys.map((key) => key.kid)).not.toContain(pending);
      expect(await status(one, await admin(two))).toBe(200);
    } finally {
      await one.close();
      await two.close();
      await location.dispose();
    }
  });
});

describe('categories and grants claims', () => {
  it('round-trip into the principal', async () => {
    const { lethe } = await start();
    const { token } = await lethe.tokens.mint({
      subject: 'aud-1',
      role: 'auditor',
      categories: ['user.contact', 'user.name'],
      grants: ['subject-ids'],
      ttlSeconds: 600,
    });
    expect(await lethe.tokens.verify(token)).toMatchObject({
      id: 'aud-1',
      role: 'auditor',
      issuer: 'lethe',
      categories: ['user.contact', 'user.name'],
      grants: ['subject-ids'],
    });
    const plain = await lethe.tokens.verify(await admin(lethe));
    expect(plain).not.toHaveProperty('categories');
    expect(plain).not.toHaveProperty('grants');
  });

  it('refuses malformed categories and grants, at mint and at verify', async () => {
    const { lethe, clock } = await start();
    await expect(
      lethe.tokens.mint({ subject: 'x', role: 'admin', categories: ['User.Contact'], ttlSeconds: 60 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(
      lethe.tokens.mint({ subject: 'x', role: 'admin', grants: ['root' as never], ttlSeconds: 60 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });

    const key = await lethe.services.keys.current();
    const forge = (claims: Record<string, unknown>) => {
      const now = Math.floor(clock.now / 1000);
      return new SignJWT({ role: 'admin', ...claims })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
        .setIssuer('lethe')
        .setAudience('lethe-api')
        .setSubject('x')
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(key.privateKey);
    };
    expect(await status(lethe, await forge({ categories: ['user.contact'] }))).toBe(200);
    for (const claims of [
      { categories: 'user.contact' },
      { categories: ['user..contact'] },
      { categories: [42] },
      { grants: ['root'] },
      { grants: 'subject-ids' },
      { system: 7 },
    ]) {
      expect(await status(lethe, await forge(claims)), JSON.stringify(claims)).toBe('TOKEN_INVALID');
    }
  });
});

describe('external OIDC issuer', () => {
  const ISSUER = 'https://idp.example.test/realms/acme';
  const PLAIN_ISSUER = 'https://plain.example.test';
  let server: Server;
  let jwksUrl: string;
  let published: JWK[] = [];
  let fetches = 0;
  let signer: { kid: string; privateKey: CryptoKey };

  async function newIdpKey(kid: string) {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
  }

  beforeAll(async () => {
    const key = await newIdpKey('idp-1');
    signer = key;
    published = [key.jwk];
    server = createServer((_request, response) => {
      fetches += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const external = () =>
    start({
      externalIssuers: [
        {
          issuer: ISSUER,
          jwksUrl,
          roleClaim: 'groups',
          roleMap: { 'privacy-admins': 'admin', 'privacy-office': 'dpo', 'privacy-audit': 'auditor' },
          jwksCooldownMs: 0,
        },
        { issuer: PLAIN_ISSUER, jwksUrl, audience: 'lethe-prod', jwksCooldownMs: 0 },
      ],
    });

  function idpToken(
    claims: Record<string, unknown>,
    options: {
      issuer?: string;
      audience?: string;
      lifetime?: number;
      typ?: string | null;
      iat?: number;
    } = {},
  ) {
    const iat = options.iat ?? Math.floor(T0 / 1000);
    const typ = options.typ === undefined ? 'at+jwt' : options.typ;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: signer.kid, ...(typ === null ? {} : { typ }) })
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(options.audience ?? 'lethe-api')
      .setSubject('alice@acme')
      .setIssuedAt(iat)
      .setExpirationTime(iat + (options.lifetime ?? 600))
      .setJti('idp-jti-1')
      .sign(signer.privateKey);
  }

  it('accepts a token with a mapped group as its role', async () => {
    const { lethe } = await start({
      externalIssuers: [
        {
          issuer: ISSUER,
          jwksUrl,
          roleClaim: 'groups',
          roleMap: { 'privacy-admins': 'admin', 'privacy-office': 'dpo', 'privacy-audit': 'auditor' },
          jwksCooldownMs: 0,
        },
      ],
    });
    const token = await idpToken({
      groups: ['everyone', 'privacy-office'],
      lethe_categories: ['user.contact'],
    });
    expect(await status(lethe, token)).toBe(200);
    expect(await lethe.tokens.verify(token)).toEqual({
      id: 'alice@acme',
      role: 'dpo',
      issuer: ISSUER,
      categories: ['user.contact'],
      tokenId: 'idp-jti-1',
    });
    // An external auditor may carry the subject-ids grant; an unknown grant is refused.
    const granted = await idpToken({ groups: ['privacy-audit'], lethe_grants: ['subject-ids'] });
    expect((await lethe.tokens.verify(granted)).grants).toEqual(['subject-ids']);
    expect(await status(lethe, await idpToken({ groups: ['privacy-office'], lethe_grants: ['all'] }))).toBe(
      'TOKEN_INVALID',
    );
    // Several mapped groups: the first role in ROLES order.
    const both = await idpToken({ groups: ['privacy-office', 'privacy-admins'] });
    expect((await lethe.tokens.verify(both)).role).toBe('admin');
    // Role names themselves are not accepted when a map is configured.
    expect(await status(lethe, await idpToken({ groups: ['admin'] }))).toBe('TOKEN_INVALID');
    // An external admin may write.
    const put = await lethe.app.inject({
      method: 'PUT',
      url: '/v1/systems/crm',
      headers: { authorization: `Bearer ${both}` },
      payload: { team: 'sales', datasets: [] },
    });
    expect(put.statusCode).toBe(201);
  });

  it('reads a role name without a map, and refuses ambiguity and unknown roles', async () => {
    const { lethe } = await external();
    const ok = await idpToken({ lethe_role: 'auditor' }, { issuer: PLAIN_ISSUER, audience: 'lethe-prod' });
    expect(await lethe.tokens.verify(ok)).toMatchObject({ role: 'auditor', issuer: PLAIN_ISSUER });
    const service = await idpToken(
      { lethe_role: 'service', lethe_system: 'orders' },
      { issuer: PLAIN_ISSUER, audience: 'lethe-prod' },
    );
    expect(await lethe.tokens.verify(service)).toMatchObject({ role: 'service', system: 'orders' });
    for (const claims of [
      { lethe_role: ['admin', 'auditor'] },
      { lethe_role: 'root' },
      { lethe_role: 7 },
      {},
      { lethe_role: 'service' }, // no system
      { lethe_role: 'auditor', lethe_categories: 'user' },
    ]) {
      const token = await idpToken(claims, { issuer: PLAIN_ISSUER, audience: 'lethe-prod' });
      expect(await status(lethe, token), JSON.stringify(claims)).toBe('TOKEN_INVALID');
    }
  });

  it('accepts typ JWT, at+jwt or none, and refuses other types', async () => {
    const { lethe } = await external();
    const claims = { groups: ['privacy-audit'] };
    expect(await status(lethe, await idpToken(claims, { typ: 'JWT' }))).toBe(200);
    expect(await status(lethe, await idpToken(claims, { typ: 'at+jwt' }))).toBe(200);
    expect(await status(lethe, await idpToken(claims, { typ: null }))).toBe(200);
    expect(await status(lethe, await idpToken(claims, { typ: 'lethe-call+jwt' }))).toBe('TOKEN_INVALID');
  });

  it('fetches the JWKS again when the issuer rotated to a new kid', async () => {
    const { lethe } = await external();
    const claims = { groups: ['privacy-office'] };
    expect(await status(lethe, await idpToken(claims))).toBe(200);
    const before = fetches;
    const next = await newIdpKey('idp-2');
    published = [next.jwk];
    signer = next;
    expect(await status(lethe, await idpToken(claims))).toBe(200);
    expect(fetches).toBe(before + 1);
    // A made-up kid is refused.
    signer = { kid: 'idp-nope', privateKey: next.privateKey };
    expect(await status(lethe, await idpToken(claims))).toBe('TOKEN_INVALID');
    signer = next;
  });

  it('refuses an untrusted issuer, a wrong audience, too long a lifetime, a future iat and expiry', async () => {
    const { lethe, clock } = await external();
    const claims = { groups: ['privacy-admins'] };
    expect(await status(lethe, await idpToken(claims, { issuer: 'https://evil.example' }))).toBe(
      'ISSUER_NOT_TRUSTED',
    );
    expect(await status(lethe, await idpToken(claims, { audience: 'other-app' }))).toBe('TOKEN_INVALID');
    expect(await status(lethe, await idpToken(claims, { lifetime: 12 * 3600 + 1 }))).toBe(
      'TOKEN_LIFETIME_TOO_LONG',
    );
    expect(await status(lethe, await idpToken(claims, { iat: Math.floor(T0 / 1000) + 3600 }))).toBe(
      'TOKEN_INVALID',
    );
    const token = await idpToken(claims);
    clock.now = T0 + 601_000;
    expect(await status(lethe, token)).toBe('TOKEN_EXPIRED');
    // An external token cannot pass as Lethe's own: the issuer chooses the keys.
    const forged = await idpToken({ role: 'admin' }, { issuer: 'lethe', typ: 'JWT' });
    expect(await status(lethe, forged)).toBe('TOKEN_INVALID');
  });
});

describe('configuration from the environment', () => {
  it('reads LETHE_OIDC_* and LETHE_KEY_ROTATION, naming the variable at fault', () => {
    expect(externalIssuerFromEnv({})).toBeUndefined();
    expect(
      externalIssuerFromEnv({
        LETHE_OIDC_ISSUER: 'https://idp.example',
        LETHE_OIDC_JWKS_URL: 'https://idp.example/jwks',
        LETHE_OIDC_ROLE_CLAIM: 'groups',
        LETHE_OIDC_ROLE_MAP: 'privacy-admins=admin, privacy-office=dpo',
      }),
    ).toEqual({
      issuer: 'https://idp.example',
      jwksUrl: 'https://idp.example/jwks',
      roleClaim: 'groups',
      roleMap: { 'privacy-admins': 'admin', 'privacy-office': 'dpo' },
    });
    expect(() => externalIssuerFromEnv({ LETHE_OIDC_ISSUER: 'https://idp.example' })).toThrow(
      /LETHE_OIDC_JWKS_URL/,
    );
    expect(() => externalIssuerFromEnv({ LETHE_OIDC_JWKS_URL: 'https://idp.example/jwks' })).toThrow(
      /LETHE_OIDC_ISSUER/,
    );
    expect(() =>
      externalIssuerFromEnv({
        LETHE_OIDC_ISSUER: 'https://i',
        LETHE_OIDC_JWKS_URL: 'http://idp.example/jwks',
      }),
    ).toThrow(/LETHE_OIDC_JWKS_URL must be https/);
    expect(() => parseRoleMap('privacy-admins=root')).toThrow(/LETHE_OIDC_ROLE_MAP/);
    expect(() => parseRoleMap('admins')).toThrow(/LETHE_OIDC_ROLE_MAP/);
    expect(keyRotationFromEnv({})).toBeUndefined();
    expect(keyRotationFromEnv({ LETHE_KEY_ROTATION: '24h' })).toBe(24 * HOUR);
    expect(keyRotationFromEnv({ LETHE_KEY_ROTATION: '7d' })).toBe(7 * 24 * HOUR);
    expect(() => keyRotationFromEnv({ LETHE_KEY_ROTATION: 'daily' })).toThrow(/LETHE_KEY_ROTATION/);
    expect(() => keyRotationFromEnv({ LETHE_KEY_ROTATION: '10s' })).toThrow(/LETHE_KEY_ROTATION/);
  });
});
