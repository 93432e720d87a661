import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { externalIssuerFromEnv, parseRoleMap } from '../src/auth/external-issuer.js';
import { keyRotationFromEnv } from '../src/auth/signing-keys.js';
import { closeStarted, HOUR, start, status, T0 } from './support/clocked-lethe.js';

/**
 * Tokens of an external OIDC issuer, on real SQLite through Fastify's inject, and the settings of
 * issuers and key rotation from the environment. Time is the injected clock, moved by the tests.
 */

afterEach(closeStarted);

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
