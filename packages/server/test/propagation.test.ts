import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCallVerifier, LetheCallError, type CallVerifier, type VerifiedCall } from '@lethe/client';
import { base64url, decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CallTokens } from '../src/auth/call-tokens.js';
import { LETHE_ITSELF, type Principal } from '../src/auth/principal.js';
import { DEFAULT_TOKEN_SETTINGS } from '../src/auth/token-rules.js';
import { CallOut, CallOutError } from '../src/requests/rights-clients/call-out.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';

/**
 * Token propagation (DESIGN.md §5): a real Lethe calls a real HTTP service acting as a rights
 * client; the service verifies every call with the SDK against Lethe's published JWKS.
 */

const AUDIENCE = 'rights-client:crm';
const DPO: Principal = { id: 'dpo-alice', role: 'dpo', issuer: 'lethe', tokenId: 'not-for-callees' };

/** What the callee saw of one call it accepted. */
interface Seen {
  readonly call: VerifiedCall;
  readonly requestIdHeader: string | undefined;
  readonly body: unknown;
}

describe('token propagation on outgoing calls', () => {
  let location: Awaited<ReturnType<typeof SQLITE_BACKEND.create>>;
  let lethe: Lethe;
  let letheUrl: string;
  let callee: Server;
  let calleeUrl: string;
  let verifier: CallVerifier;
  let callTokens: CallTokens;
  let callOut: CallOut;
  const seen: Seen[] = [];

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.url === '/slow') {
      setTimeout(() => answer(200, {}), 2_000).unref();
      return;
    }
    if (request.url === '/moved') {
      response.writeHead(307, { location: `${calleeUrl}/rights` }).end();
      return;
    }
    let text = '';
    for await (const chunk of request) text += String(chunk);
    try {
      const call = await verifier.verify(request.headers.authorization);
      const requestIdHeader = request.headers['x-request-id'];
      seen.push({
        call,
        requestIdHeader: typeof requestIdHeader === 'string' ? requestIdHeader : undefined,
        body: text === '' ? undefined : JSON.parse(text),
      });
      answer(200, { accepted: true, actor: call.actor.id });
    } catch (error) {
      if (!(error instanceof LetheCallError)) return answer(500, { error: String(error) });
      answer(401, { error: { code: error.code, message: error.message } });
    }
  }

  /** Sends `authorization` to the callee as Lethe would, and returns its answer. */
  async function present(
    authorization?: string,
  ): Promise<{ status: number; code?: string; message?: string }> {
    const response = await fetch(`${calleeUrl}/rights`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: '{}',
    });
    const body = (await response.json()) as { error?: { code: string; message: string } };
    return { status: response.status, ...body.error };
  }

  /** A fresh, valid call token for the callee, as `callOut` would send it. */
  async function validToken(actor: Principal = DPO): Promise<string> {
    return (await callTokens.mint({ audience: AUDIENCE, actor, requestId: 'req-refusal' })).token;
  }

  beforeAll(async () => {
    location = await SQLITE_BACKEND.create({ migrated: true });
    lethe = await createLethe({ dataDir: location.dataDir });
    letheUrl = await lethe.app.listen({ port: 0, host: '127.0.0.1' });
    callTokens = new CallTokens(lethe.services.keys, DEFAULT_TOKEN_SETTINGS);
    callOut = new CallOut(callTokens);

    callee = createServer((request, response) => void handle(request, response));
    await new Promise<void>((resolve) => callee.listen(0, '127.0.0.1', resolve));
    calleeUrl = `http://127.0.0.1:${(callee.address() as AddressInfo).port}`;
    verifier = createCallVerifier({ jwksUrl: `${letheUrl}/.well-known/jwks.json`, audience: AUDIENCE });
  });

  afterAll(async () => {
    callee?.closeAllConnections();
    await new Promise<void>((resolve) => (callee ? callee.close(() => resolve()) : resolve()));
    await lethe?.close();
    await location?.dispose();
  });

  it('carries the actor, the callee audience and the request id to a rights client', async () => {
    const before = Date.now();
    const result = await callOut.call({
      url: `${calleeUrl}/rights`,
      audience: AUDIENCE,
      actor: DPO,
      method: 'POST',
      body: { subject: 'u-1001', kind: 'erasure' },
      timeoutMs: 5_000,
      requestId: 'req-42',
    });
    expect(result).toEqual({
      status: 200,
      body: { accepted: true, actor: 'dpo-alice' },
      requestId: 'req-42',
      tokenId: expect.any(String),
    });
    const first = seen.at(-1)!;
    expect(first.call).toEqual({
      actor: { id: 'dpo-alice', role: 'dpo' },
      audience: AUDIENCE,
      requestId: 'req-42',
      expiresAt: expect.any(Date),
      tokenId: result.tokenId,
    });
    expect(first.requestIdHeader).toBe('req-42');
    expect(first.body).toEqual({ subject: 'u-1001', kind: 'erasure' });
    // Minutes, not hours: the default lifetime is five minutes.
    const lifetimeMs = first.call.expiresAt.getTime() - before;
    expect(lifetimeMs).toBeGreaterThan(290_000);
    expect(lifetimeMs).toBeLessThanOrEqual(301_000);

    // A fresh token for every call; without a given request id one is made up and sent.
    const second = await callOut.call({
      url: `${calleeUrl}/rights`,
      audience: AUDIENCE,
      actor: DPO,
      method: 'GET',
      timeoutMs: 5_000,
    });
    expect(second.status).toBe(200);
    expect(second.tokenId).not.toBe(result.tokenId);
    expect(seen.at(-1)!.call.tokenId).toBe(second.tokenId);
    expect(seen.at(-1)!.call.requestId).toBe(second.requestId);
    expect(seen.at(-1)!.requestIdHeader).toBe(second.requestId);
  });

  it('is a typed call token (typ lethe-call+jwt) naming only who acted', async () => {
    const { token } = await callTokens.mint({ audience: AUDIENCE, actor: DPO });
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'EdDSA',
      kid: expect.any(String),
      typ: 'lethe-call+jwt',
    });
    const claims = decodeJwt(token);
    expect(claims).toEqual({
      iss: 'lethe',
      sub: 'lethe',
      aud: AUDIENCE,
      iat: expect.any(Number),
      exp: (claims.iat ?? 0) + 300,
      jti: expect.any(String),
      act: { sub: 'dpo-alice', role: 'dpo' },
    });
  });

  it("names an external actor's issuer", async () => {
    await callOut.call({
      url: `${calleeUrl}/rights`,
      audience: AUDIENCE,
      actor: { id: 'alice@example.com', role: 'dpo', issuer: 'https://idp.example.com' },
      method: 'POST',
      body: {},
      timeoutMs: 5_000,
    });
    expect(seen.at(-1)!.call.actor).toEqual({
      id: 'alice@example.com',
      role: 'dpo',
      issuer: 'https://idp.example.com',
    });
  });

  describe('the callee refuses', () => {
    it('a call token minted for another audience', async () => {
      const { token } = await callTokens.mint({ audience: 'rights-client:billing', actor: DPO });
      const answer = await present(`Bearer ${token}`);
      expect(answer).toMatchObject({ status: 401, code: 'TOKEN_INVALID' });
      expect(answer.message).toMatch(/"aud"/);
    });

    it("Lethe's own API token (typ JWT, aud lethe-api)", async () => {
      const { token } = await lethe.tokens.mint({ subject: 'dpo-alice', role: 'dpo', ttlSeconds: 600 });
      expect(decodeProtectedHeader(token).typ).toBe('JWT');
      const answer = await present(`Bearer ${token}`);
      expect(answer).toMatchObject({ status: 401, code: 'TOKEN_INVALID' });
      expect(answer.message).toMatch(/typ/);
    });

    it('an expired call token', async () => {
      // Minted twenty minutes ago with the default five-minute lifetime.
      vi.useFakeTimers({ toFake: ['Date'] });
      let token: string;
      try {
        vi.setSystemTime(Date.now() - 20 * 60 * 1000);
        token = await validToken();
      } finally {
        vi.useRealTimers();
      }
      expect(await present(`Bearer ${token}`)).toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });
    });

    it('a tampered call token (actor promoted to admin)', async () => {
      const [header, payload, signature] = (await validToken()).split('.');
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload!))) as Record<
        string,
        unknown
      >;
      claims['act'] = { sub: 'dpo-alice', role: 'admin' };
      const forged = `${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`;
      const answer = await present(`Bearer ${forged}`);
      expect(answer).toMatchObject({ status: 401, code: 'TOKEN_INVALID' });
      expect(answer.message).toMatch(/signature/);
    });

    it('a call without an Authorization header, or without a bearer token', async () => {
      expect(await present()).toMatchObject({ status: 401, code: 'TOKEN_MISSING' });
      expect(await present('')).toMatchObject({ status: 401, code: 'TOKEN_MISSING' });
      expect(await present(`Basic ${btoa('lethe:secret')}`)).toMatchObject({
        status: 401,
        code: 'TOKEN_MISSING',
      });
      expect(await present('Bearer not-a-jwt')).toMatchObject({ status: 401, code: 'TOKEN_INVALID' });
    });

    it('an unsigned token (alg: none)', async () => {
      const [header, payload] = (await validToken()).split('.');
      const { kid } = JSON.parse(new TextDecoder().decode(base64url.decode(header!))) as { kid: string };
      const none = base64url.encode(JSON.stringify({ alg: 'none', kid, typ: 'lethe-call+jwt' }));
      const answer = await present(`Bearer ${none}.${payload}.`);
      expect(answer).toMatchObject({ status: 401, code: 'TOKEN_INVALID' });
      expect(answer.message).toMatch(/alg/);
    });

    it("an HS256 token keyed with Lethe's public key (algorithm confusion)", async () => {
      const jwks = (await (await fetch(`${letheUrl}/.well-known/jwks.json`)).json()) as {
        keys: { kid: string; x: string }[];
      };
      const published = jwks.keys[0]!;
      const token = await new SignJWT({ act: { sub: 'dpo-alice', role: 'admin' } })
        .setProtectedHeader({ alg: 'HS256', kid: published.kid, typ: 'lethe-call+jwt' })
        .setIssuer('lethe')
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti('confused')
        .sign(new TextEncoder().encode(published.x));
      const answer = await present(`Bearer ${token}`);
      expect(answer).toMatchObject({ status: 401, code: 'TOKEN_INVALID' });
      expect(answer.message).toMatch(/alg/);
    });

    it('a well-formed call token signed by a key Lethe does not publish', async () => {
      const { kid } = decodeProtectedHeader(await validToken());
      const { privateKey } = await generateKeyPair('EdDSA');
      const token = await new SignJWT({ act: { sub: 'dpo-alice', role: 'admin' } })
        .setProtectedHeader({ alg: 'EdDSA', kid: kid!, typ: 'lethe-call+jwt' })
        .setIssuer('lethe')
        .setSubject('lethe')
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti('forged')
        .sign(privateKey);
      const answer = await present(`Bearer ${token}`);
      expect(answer).toMatchObject({ status: 401, code: 'TOKEN_INVALID' });
      expect(answer.message).toMatch(/signature/);
    });

    it('a call token living longer than the verifier allows', async () => {
      const strict = createCallVerifier({
        jwksUrl: `${letheUrl}/.well-known/jwks.json`,
        audience: AUDIENCE,
        maxLifetimeSeconds: 60,
      });
      const error: unknown = await strict
        .verify(`Bearer ${await validToken()}`)
        .catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(LetheCallError);
      expect(error).toMatchObject({ code: 'TOKEN_INVALID', message: expect.stringMatching(/exp - iat/) });
    });
  });

  it("refuses every call while Lethe's key set cannot be fetched (fail closed)", async () => {
    const unreachable = createCallVerifier({
      jwksUrl: 'http://127.0.0.1:1/.well-known/jwks.json',
      audience: AUDIENCE,
    });
    const error: unknown = await unreachable
      .verify(`Bearer ${await validToken()}`)
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({
      code: 'TOKEN_INVALID',
      message: expect.stringMatching(/could not be fetched/),
    });
  });

  it("is refused by Lethe's own API (a call token is not an API token)", async () => {
    const adminCall = await callTokens.mint({ audience: AUDIENCE, actor: { id: 'root', role: 'admin' } });
    const response = await fetch(`${letheUrl}/v1/policies`, {
      headers: { authorization: `Bearer ${adminCall.token}` },
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('TOKEN_INVALID');
  });

  it("refuses to mint for more than 15 minutes or for Lethe's own API audience", async () => {
    await expect(callTokens.mint({ audience: AUDIENCE, actor: DPO, ttlSeconds: 901 })).rejects.toMatchObject({
      code: 'TOKEN_LIFETIME_TOO_LONG',
    });
    await expect(callTokens.mint({ audience: 'lethe-api', actor: DPO })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(callTokens.mint({ audience: '', actor: DPO })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    const longest = await callTokens.mint({ audience: AUDIENCE, actor: DPO, ttlSeconds: 900 });
    expect(await present(`Bearer ${longest.token}`)).toMatchObject({ status: 200 });
  });

  it('times out, does not follow redirects, and keeps the token out of errors', async () => {
    const sent: string[] = [];
    const recording = new CallOut(callTokens, {
      fetch: (input, init) => {
        sent.push(new Headers(init?.headers).get('authorization') ?? '');
        return fetch(input, init);
      },
    });
    const slow = recording.call({
      url: `${calleeUrl}/slow`,
      audience: AUDIENCE,
      actor: DPO,
      method: 'POST',
      body: {},
      timeoutMs: 200,
      requestId: 'req-slow',
    });
    const error: unknown = await slow.catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CallOutError);
    expect(error).toMatchObject({ reason: 'timeout', requestId: 'req-slow' });
    const token = sent[0]!.replace(/^Bearer /, '');
    expect(token.split('.')).toHaveLength(3);
    expect(`${String(error)} ${JSON.stringify(error)} ${(error as Error).stack}`).not.toContain(token);

    const accepted = seen.length;
    const moved = await recording.call({
      url: `${calleeUrl}/moved`,
      audience: AUDIENCE,
      actor: DPO,
      method: 'POST',
      body: {},
      timeoutMs: 5_000,
    });
    expect(moved.status).toBe(307);
    expect(seen).toHaveLength(accepted);
  });

  // Last: it rotates Lethe's keys under the other tests.
  it("follows Lethe's key rotation, and stops accepting a revoked key once its cache refreshes", async () => {
    const verify = (verifier: CallVerifier, token: string) =>
      verifier.verify(`Bearer ${token}`).then(
        (call) => call.actor.id,
        (error: unknown) => (error instanceof LetheCallError ? error.code : error),
      );
    const jwksUrl = `${letheUrl}/.well-known/jwks.json`;
    // Refetches on every unknown kid; the second also refetches on every call.
    const following = createCallVerifier({ jwksUrl, audience: AUDIENCE, jwksCooldownSeconds: 0 });
    const uncached = createCallVerifier({ jwksUrl, audience: AUDIENCE, jwksCacheMaxAgeSeconds: 0 });

    const first = await validToken();
    expect(await verify(following, first)).toBe('dpo-alice');
    await lethe.services.keys.rotate(LETHE_ITSELF);
    const second = await validToken();
    expect(decodeProtectedHeader(second).kid).not.toBe(decodeProtectedHeader(first).kid);
    expect(await verify(following, second)).toBe('dpo-alice');
    // The retired key stays published until the tokens it signed have expired.
    expect(await verify(following, first)).toBe('dpo-alice');

    expect(await verify(uncached, second)).toBe('dpo-alice');
    await lethe.services.keys.rotate(LETHE_ITSELF, { revokePrevious: true });
    expect(await verify(uncached, second)).toBe('TOKEN_INVALID');
    expect(await verify(uncached, await validToken())).toBe('dpo-alice');
  });
});
