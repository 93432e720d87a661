import type { JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { Principal } from '../src/auth/principal.js';
import { PUBLISH_AHEAD_MS, RETIRED_KEY_GRACE_MS } from '../src/auth/signing-keys.js';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { admin, closeStarted, get, HOUR, start, status, T0 } from './support/clocked-lethe.js';

/**
 * Signing-key rotation and the JWKS, on real SQLite through Fastify's inject (and two processes
 * sharing PostgreSQL). Time is the injected clock, moved by the tests.
 */

afterEach(closeStarted);

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
