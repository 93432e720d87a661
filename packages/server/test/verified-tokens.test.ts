import { afterEach, describe, expect, it } from 'vitest';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import { admin, closeStarted, start, status, T0 } from './support/clocked-lethe.js';

/**
 * The cache of verified tokens (`auth/verified-tokens.ts`) never answers differently from a full
 * verification: each test first has the token accepted (so it is cached), then changes what a full
 * verification would decide. Real SQLite, Fastify's inject, the injected clock.
 */

afterEach(closeStarted);

function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string };
  return header.kid;
}

describe('verified-token cache', () => {
  it('accepts a cached token up to its exp and refuses it from that second on', async () => {
    const { lethe, clock } = await start();
    const token = await admin(lethe, 600);
    expect(await status(lethe, token)).toBe(200);
    clock.now = T0 + 599_999;
    expect(await status(lethe, token)).toBe(200);
    clock.now = T0 + 600_000;
    expect(await status(lethe, token)).toBe('TOKEN_EXPIRED');
  });

  it('refuses a cached token before its iat minus the clock skew, as a full check does', async () => {
    const { lethe, clock } = await start();
    const token = await admin(lethe);
    expect(await status(lethe, token)).toBe(200);
    clock.now = T0 - 61_000; // the server's clock went back: the token is now issued in the future
    expect(await status(lethe, token)).toBe('TOKEN_INVALID');
  });

  it('refuses a cached token at once when its key is revoked', async () => {
    const { lethe } = await start();
    const token = await admin(lethe);
    expect(await status(lethe, token)).toBe(200);
    await lethe.services.keys.rotate(LETHE_ITSELF, { revokePrevious: true });
    expect(await status(lethe, token)).toBe('TOKEN_INVALID');
    expect(await status(lethe, await admin(lethe))).toBe(200);
  });

  it('keeps accepting a cached token whose key was rotated without revoking it', async () => {
    const { lethe, clock } = await start();
    const token = await admin(lethe, 12 * 3600);
    expect(await status(lethe, token)).toBe(200);
    await lethe.services.keys.rotate(LETHE_ITSELF); // retires the key now; it verifies for its grace
    clock.now = T0 + 12 * 3600 * 1000 - 1;
    expect(await status(lethe, token)).toBe(200);
  });

  it('refuses a cached token whose key was removed from the store', async () => {
    const { lethe } = await start();
    const token = await admin(lethe);
    expect(await status(lethe, token)).toBe(200);
    await lethe.services.store.repository.db
      .deleteFrom('signing_keys')
      .where('kid', '=', kidOf(token))
      .execute();
    await lethe.services.keys.rotate(LETHE_ITSELF); // reloads the keys from the store
    expect(await status(lethe, token)).toBe('TOKEN_INVALID');
  });

  it('does not let a token with another signature through on the strength of a cached one', async () => {
    const { lethe } = await start();
    const token = await admin(lethe);
    expect(await status(lethe, token)).toBe(200);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] = bytes[0]! ^ 1;
    expect(await status(lethe, `${header}.${payload}.${bytes.toString('base64url')}`)).toBe('TOKEN_INVALID');
    expect(await status(lethe, token)).toBe(200);
  });

  it('keeps each token its own principal', async () => {
    const { lethe } = await start();
    const auditor = (await lethe.tokens.mint({ subject: 'a', role: 'auditor', ttlSeconds: 600 })).token;
    const adminToken = await admin(lethe);
    for (let round = 0; round < 2; round++) {
      expect(await lethe.tokens.verify(auditor)).toMatchObject({ id: 'a', role: 'auditor' });
      expect(await lethe.tokens.verify(adminToken)).toMatchObject({ id: 'test-admin', role: 'admin' });
    }
  });
});
