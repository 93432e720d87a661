import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, closeStarted, start, status } from './support/clocked-lethe.js';

/** The categories and grants claims of Lethe's own tokens, on real SQLite through Fastify's inject. */

afterEach(closeStarted);

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
