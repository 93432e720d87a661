import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcSignInFromEnv } from '../src/session/oidc/oidc-sign-in-settings.js';
import { ProviderClient } from '../src/session/oidc/oidc-provider-client.js';
import { createLethe, type Lethe } from '../src/server.js';
import { availableBackends } from './support/backends.js';
import {
  authorizeAs,
  DASHBOARD_CLIENT,
  OTHER_CLIENT,
  ROLE_SETTINGS,
  startTestProvider,
  type TestProvider,
} from './support/oidc-provider.js';

/**
 * The dashboard's sign-in through an OIDC provider, against a real provider (`oidc-provider`) on
 * loopback and a real Lethe (both stores): start, the provider's login and consent, finish.
 */

const LETHE_ORIGIN = 'http://127.0.0.1:7420';
const REDIRECT_URI = `${LETHE_ORIGIN}/sign-in/callback`;

let idp: TestProvider;
beforeAll(async () => {
  idp = await startTestProvider({ redirectUri: REDIRECT_URI, postLogoutRedirectUri: `${LETHE_ORIGIN}/` });
});
afterAll(() => idp?.close());

interface Started {
  authorizationUrl: string;
  attempt: string;
}

async function start(lethe: Lethe): Promise<Started> {
  const response = await lethe.app.inject({ method: 'POST', url: '/v1/session/oidc/start' });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<Started>();
}

function finish(lethe: Lethe, body: Record<string, unknown>) {
  return lethe.app.inject({ method: 'POST', url: '/v1/session/oidc/finish', payload: body });
}

/** Starts a sign-in, logs in at the provider as `login`, and returns what came back. */
async function signInAt(lethe: Lethe, login: string, edit?: (url: URL) => void) {
  const started = await start(lethe);
  const url = new URL(started.authorizationUrl);
  edit?.(url);
  const answer = await authorizeAs(url.href, login, REDIRECT_URI);
  return { ...started, code: answer.get('code') ?? '', state: answer.get('state') ?? '' };
}

for (const backend of await availableBackends()) {
  // Each sign-in is several round trips to the provider: generous on a loaded machine.
  describe(`OIDC sign-in on ${backend.name}`, { timeout: 90_000 }, () => {
    let lethe: Lethe;
    let dispose: () => Promise<void>;
    // Moved forward to let a started sign-in expire.
    let clockOffset = 0;

    beforeAll(async () => {
      const location = await backend.create({ migrated: true });
      lethe = await createLethe({
        ...location,
        rateLimit: false,
        now: () => Date.now() + clockOffset,
        oidcSignIn: {
          issuer: idp.issuer,
          clientId: DASHBOARD_CLIENT.id,
          clientSecret: DASHBOARD_CLIENT.secret,
          redirectUri: REDIRECT_URI,
          scopes: 'openid lethe',
          providerName: 'Acme SSO',
          ...ROLE_SETTINGS,
        },
      });
      dispose = async () => {
        await lethe.close();
        await location.dispose();
      };
    });
    afterAll(() => dispose?.());

    it('names the provider and sends the browser there with state, nonce and an S256 challenge', async () => {
      const info = await lethe.app.inject({ method: 'GET', url: '/v1/session/oidc' });
      expect(info.json()).toEqual({ providerName: 'Acme SSO' });
      const { authorizationUrl } = await start(lethe);
      const url = new URL(authorizationUrl);
      expect(url.origin).toBe(idp.issuer);
      expect(Object.fromEntries(url.searchParams)).toMatchObject({
        response_type: 'code',
        client_id: DASHBOARD_CLIENT.id,
        redirect_uri: REDIRECT_URI,
        scope: 'openid lethe',
        code_challenge_method: 'S256',
      });
      for (const name of ['state', 'nonce', 'code_challenge']) {
        expect(url.searchParams.get(name)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }
    });

    it('signs a mapped user in with a Lethe token of the mapped role and scopes, audited', async () => {
      const { code, state, attempt } = await signInAt(lethe, 'dana');
      const response = await finish(lethe, { code, state, attempt });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = response.json<{ token: string; expiresAt: string; endSessionUrl?: string }>();
      const claims = decodeJwt(body.token);
      expect(claims).toMatchObject({
        iss: 'lethe',
        sub: `dana@${idp.issuer}`,
        role: 'dpo',
        categories: ['user.contact'],
      });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
      expect(Date.parse(body.expiresAt)).toBe((claims.exp ?? 0) * 1000);
      const logout = new URL(body.endSessionUrl ?? '');
      expect(logout.origin).toBe(idp.issuer);
      expect(logout.searchParams.get('client_id')).toBe(DASHBOARD_CLIENT.id);
      expect(logout.searchParams.get('post_logout_redirect_uri')).toBe(`${LETHE_ORIGIN}/`);

      // The token works like any other Lethe token, within its role and categories.
      const session = await lethe.app.inject({
        method: 'GET',
        url: '/v1/session',
        headers: { authorization: `Bearer ${body.token}` },
      });
      expect(session.json()).toMatchObject({
        subject: `dana@${idp.issuer}`,
        role: 'dpo',
        categories: ['user.contact'],
      });

      const entries = await lethe.services.store.repository.audit.entries(0, 10_000);
      const signIn = entries.filter((entry) => entry.action === 'sign-in.oidc').at(-1);
      expect(signIn).toMatchObject({
        actor: `dpo:dana@${idp.issuer}`,
        target: `token:${String(claims.jti)} dpo:dana@${idp.issuer}`,
      });

      // A code is good once: the provider refuses it the second time.
      const again = await finish(lethe, { code, state, attempt });
      expect(again.statusCode).toBe(400);
      expect(again.json().error.code).toBe('OIDC_CODE_INVALID');
    });

    it('gives the most privileged mapped role', async () => {
      const { code, state, attempt } = await signInAt(lethe, 'ada');
      const response = await finish(lethe, { code, state, attempt });
      expect(response.statusCode, response.body).toBe(200);
      expect(decodeJwt(response.json<{ token: string }>().token).role).toBe('admin');
    });

    it('refuses a user whose claims map to no role: 403 OIDC_NO_ROLE, and mints nothing', async () => {
      const before = await lethe.services.store.repository.audit.entries(0, 10_000);
      const { code, state, attempt } = await signInAt(lethe, 'mallory');
      const response = await finish(lethe, { code, state, attempt });
      expect(response.statusCode).toBe(403);
      expect(response.json().error).toMatchObject({ code: 'OIDC_NO_ROLE' });
      expect(response.json().error.message).toMatch(/"groups" claim names no role/);
      const after = await lethe.services.store.repository.audit.entries(0, 10_000);
      expect(after.filter((entry) => entry.action === 'sign-in.oidc').length).toBe(
        before.filter((entry) => entry.action === 'sign-in.oidc').length,
      );
      // Who tried and why it was refused is on record; no token id, since none was minted.
      const refused = after.slice(before.length).filter((entry) => entry.action === 'sign-in.oidc.refused');
      expect(refused).toHaveLength(1);
      expect(refused[0]?.actor).toBe(`none:mallory@${idp.issuer}`);
      expect(refused[0]?.target).toMatch(/^no role: .*"groups" claim names no role/);
    });

    it('refuses a state that is not the attempt’s, an attempt it did not sign, and an expired one', async () => {
      const { code, state, attempt } = await signInAt(lethe, 'dana');
      const other = await start(lethe);
      // The provider's answer for this sign-in, presented with another tab's attempt.
      const planted = await finish(lethe, { code, state, attempt: other.attempt });
      expect(planted.statusCode).toBe(400);
      expect(planted.json().error.code).toBe('OIDC_STATE_INVALID');
      const wrongState = await finish(lethe, { code, state: `${state}x`, attempt });
      expect(wrongState.json().error.code).toBe('OIDC_STATE_INVALID');
      // An attempt made up by the browser: its own state, nonce and verifier, unsigned by Lethe.
      const [header, ,] = attempt.split('.') as [string, string, string];
      const forgedClaims = Buffer.from(
        JSON.stringify({ state, nonce: 'n', verifier: 'v', aud: DASHBOARD_CLIENT.id, exp: 9e9 }),
      ).toString('base64url');
      const forged = await finish(lethe, {
        code,
        state,
        attempt: `${header}.${forgedClaims}.${randomBytes(32).toString('base64url')}`,
      });
      expect(forged.statusCode).toBe(400);
      expect(forged.json().error.code).toBe('OIDC_STATE_INVALID');

      // The sign-in left waiting past its 10 minutes.
      clockOffset = 11 * 60_000;
      try {
        const late = await finish(lethe, { code, state, attempt });
        expect(late.statusCode).toBe(400);
        expect(late.json().error).toMatchObject({ code: 'OIDC_STATE_INVALID' });
        expect(late.json().error.message).toMatch(/longer than 10 minutes/);
      } finally {
        clockOffset = 0;
      }
      // None of these used the code up: the rightful finish still works.
      const rightful = await finish(lethe, { code, state, attempt });
      expect(rightful.statusCode, rightful.body).toBe(200);
    });

    it('refuses an ID token issued for another nonce', async () => {
      const { code, state, attempt } = await signInAt(lethe, 'dana', (url) =>
        url.searchParams.set('nonce', randomBytes(32).toString('base64url')),
      );
      const response = await finish(lethe, { code, state, attempt });
      expect(response.statusCode).toBe(401);
      expect(response.json().error).toMatchObject({ code: 'OIDC_ID_TOKEN_INVALID' });
      expect(response.json().error.message).toMatch(/nonce/);
    });

    it('refuses a code whose PKCE verifier is not the attempt’s', async () => {
      const verifier = randomBytes(32).toString('base64url');
      const { code, state, attempt } = await signInAt(lethe, 'dana', (url) =>
        url.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url')),
      );
      const response = await finish(lethe, { code, state, attempt });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('OIDC_CODE_INVALID');
    });

    it('refuses malformed bodies with 400', async () => {
      const response = await finish(lethe, { code: '', state: 's' });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_FAILED');
    });
  });
}

describe('an ID token for another audience', { timeout: 90_000 }, () => {
  it('is refused: the provider really issued it, to another client', async () => {
    // Another application's sign-in at the same provider, with its own nonce and verifier.
    const nonce = randomBytes(32).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    const authorize = new URL(`${idp.issuer}/auth`);
    for (const [name, value] of Object.entries({
      response_type: 'code',
      client_id: OTHER_CLIENT.id,
      redirect_uri: OTHER_CLIENT.redirectUri,
      scope: 'openid lethe',
      state: 'other-state',
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    })) {
      authorize.searchParams.set(name, value);
    }
    const answer = await authorizeAs(authorize.href, 'dana', OTHER_CLIENT.redirectUri);
    const tokens = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: answer.get('code') ?? '',
        redirect_uri: OTHER_CLIENT.redirectUri,
        code_verifier: verifier,
        client_id: OTHER_CLIENT.id,
      }).toString(),
    });
    const { id_token: idToken } = (await tokens.json()) as { id_token: string };
    expect(decodeJwt(idToken).aud).toBe(OTHER_CLIENT.id);

    const dashboard = new ProviderClient({
      issuer: idp.issuer,
      clientId: DASHBOARD_CLIENT.id,
      redirectUri: REDIRECT_URI,
    });
    await expect(dashboard.verifyIdToken(idToken, nonce)).rejects.toMatchObject({
      code: 'OIDC_ID_TOKEN_INVALID',
      message: expect.stringMatching(/aud/),
    });
    // The same token passes for the client it was issued to: the refusal is the audience's.
    const other = new ProviderClient({
      issuer: idp.issuer,
      clientId: OTHER_CLIENT.id,
      redirectUri: OTHER_CLIENT.redirectUri,
    });
    await expect(other.verifyIdToken(idToken, nonce)).resolves.toMatchObject({ sub: 'dana' });
  });
});

describe('configuration from the environment', () => {
  const base = {
    LETHE_OIDC_ISSUER: 'https://idp.example/realms/acme',
    LETHE_OIDC_CLIENT_ID: 'lethe-dashboard',
    LETHE_OIDC_REDIRECT_URI: 'https://lethe.example/sign-in/callback',
  };
  it('reads LETHE_OIDC_CLIENT_ID and the rest, with the claim mapping of the external issuer', () => {
    expect(oidcSignInFromEnv({})).toBeUndefined();
    expect(
      oidcSignInFromEnv({
        ...base,
        LETHE_OIDC_CLIENT_SECRET: 's3cret',
        LETHE_OIDC_SCOPES: 'openid groups',
        LETHE_OIDC_PROVIDER_NAME: 'Acme SSO',
        LETHE_OIDC_ROLE_CLAIM: 'groups',
        LETHE_OIDC_ROLE_MAP: 'privacy-office=dpo',
      }),
    ).toEqual({
      issuer: base.LETHE_OIDC_ISSUER,
      clientId: 'lethe-dashboard',
      clientSecret: 's3cret',
      redirectUri: base.LETHE_OIDC_REDIRECT_URI,
      scopes: 'openid groups',
      providerName: 'Acme SSO',
      roleClaim: 'groups',
      roleMap: { 'privacy-office': 'dpo' },
    });
  });
  it('names the variable at fault', () => {
    expect(() => oidcSignInFromEnv({ LETHE_OIDC_CLIENT_ID: 'x' })).toThrow(/LETHE_OIDC_ISSUER/);
    expect(() => oidcSignInFromEnv({ ...base, LETHE_OIDC_REDIRECT_URI: undefined })).toThrow(
      /LETHE_OIDC_REDIRECT_URI is required/,
    );
    expect(() => oidcSignInFromEnv({ ...base, LETHE_OIDC_REDIRECT_URI: 'https://lethe.example/cb' })).toThrow(
      /\/sign-in\/callback/,
    );
    expect(() => oidcSignInFromEnv({ ...base, LETHE_OIDC_ISSUER: 'http://idp.example' })).toThrow(
      /LETHE_OIDC_ISSUER must be https/,
    );
    expect(() => oidcSignInFromEnv({ ...base, LETHE_OIDC_SCOPES: 'profile' })).toThrow(/openid/);
    expect(() => oidcSignInFromEnv({ ...base, LETHE_OIDC_ROLE_MAP: 'x=root' })).toThrow(
      /LETHE_OIDC_ROLE_MAP/,
    );
  });
});
