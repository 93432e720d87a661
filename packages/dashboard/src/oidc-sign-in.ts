import type { OidcSignInInfo, OidcSignInResult, OidcSignInStart } from '@lethe/api';
import { callPublicApi } from './api.js';
import { END_SESSION_KEY, sessionFromToken, type Session } from './session.js';

/**
 * Sign-in through the company's OIDC provider. The server runs the code flow (it holds the client
 * secret, exchanges the code and verifies the ID token); the tab only carries the *attempt* the
 * server made (state, nonce and PKCE verifier, signed by the server) from the click to the
 * provider's answer at `/sign-in/callback`. The attempt lives in this tab's sessionStorage, so an
 * answer that arrives in another tab (a planted callback link) finds none and signs nobody in.
 */
const ATTEMPT_KEY = 'lethe.oidc.attempt';
export const CALLBACK_PATH = '/sign-in/callback';

/** The provider's name when the server offers OIDC sign-in, else undefined. */
export async function oidcProvider(): Promise<string | undefined> {
  try {
    return (await callPublicApi<OidcSignInInfo>('GET', '/v1/session/oidc')).providerName;
  } catch {
    // Not configured (404) or unreachable: the page offers the other ways in.
    return undefined;
  }
}

/** Asks the server for an attempt and sends the browser to the provider. */
export async function startOidcSignIn(): Promise<void> {
  const { authorizationUrl, attempt } = await callPublicApi<OidcSignInStart>(
    'POST',
    '/v1/session/oidc/start',
  );
  sessionStorage.setItem(ATTEMPT_KEY, attempt);
  window.location.assign(authorizationUrl);
}

/** What the provider sent back to the redirect URI. */
export type OidcCallback =
  | { readonly code: string; readonly state: string }
  | { readonly error: string; readonly description?: string };

/**
 * The provider's answer in the address bar (`/sign-in/callback?code=…&state=…`), taken out at
 * once: the code is single-use and short-lived, but should not stay in the history.
 */
export function takeOidcCallback(): OidcCallback | undefined {
  if (window.location.pathname !== CALLBACK_PATH) return undefined;
  const query = new URLSearchParams(window.location.search);
  window.history.replaceState(null, '', '/');
  const error = query.get('error');
  if (error !== null) {
    const description = query.get('error_description');
    return { error, ...(description !== null ? { description } : {}) };
  }
  return { code: query.get('code') ?? '', state: query.get('state') ?? '' };
}

/**
 * Trades the provider's answer for a Lethe token with the attempt this tab kept (used once: it is
 * removed whatever happens). Refusals are ApiErrors with the server's code.
 */
export async function finishOidcSignIn(callback: {
  code: string;
  state: string;
}): Promise<Session | { problem: string }> {
  const attempt = sessionStorage.getItem(ATTEMPT_KEY);
  sessionStorage.removeItem(ATTEMPT_KEY);
  if (attempt === null) {
    return { problem: 'This sign-in was not started in this tab. Start again with the button below.' };
  }
  const result = await callPublicApi<OidcSignInResult>('POST', '/v1/session/oidc/finish', {
    ...callback,
    attempt,
  });
  if (result.endSessionUrl) sessionStorage.setItem(END_SESSION_KEY, result.endSessionUrl);
  return sessionFromToken(result.token);
}

/**
 * The provider's sign-out for this session, if it advertised one, forgotten as it is read: signing
 * out of Lethe offers it once.
 */
export function takeEndSessionUrl(): string | undefined {
  const url = sessionStorage.getItem(END_SESSION_KEY);
  sessionStorage.removeItem(END_SESSION_KEY);
  return url ?? undefined;
}
