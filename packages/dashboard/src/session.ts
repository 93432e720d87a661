import type { SignInExchangeResult } from '@lethe/api';
import { callPublicApi } from './api.js';

/**
 * Who is signed in: the bearer token and what its (unverified) claims say about it. The claims
 * only shape the page (the role shown, when the session ends); the server verifies the token on
 * every call and decides what the user may see.
 *
 * The token lives in `sessionStorage`: this tab only, gone when the tab closes, never a cookie (so
 * no request carries it unless the dashboard puts it in the Authorization header).
 */
export interface Session {
  readonly token: string;
  readonly subject: string;
  readonly role: string;
  /** Data categories the token is limited to; absent: every category. */
  readonly categories?: readonly string[];
  readonly expiresAt: Date;
}

const STORAGE_KEY = 'lethe.token';
/** The identity provider's sign-out for a session that came from it (see oidc-sign-in.ts). */
export const END_SESSION_KEY = 'lethe.oidc.endSession';

/** The claims of a JWT, or a reason it is not one of Lethe's tokens. */
export function sessionFromToken(token: string, now = Date.now()): Session | { problem: string } {
  const payload = token.trim().split('.')[1];
  if (payload === undefined)
    return { problem: 'This is not a token: a Lethe token has three parts separated by dots.' };
  let claims: Record<string, unknown>;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    claims = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))),
    ) as Record<string, unknown>;
  } catch {
    return { problem: 'This is not a token: its claims cannot be read.' };
  }
  if (typeof claims['exp'] !== 'number' || typeof claims['role'] !== 'string') {
    return { problem: 'This token carries no role or expiry; mint one with `lethe token create`.' };
  }
  const expiresAt = new Date(claims['exp'] * 1000);
  if (expiresAt.getTime() <= now) return { problem: `This token expired at ${expiresAt.toLocaleString()}.` };
  const categories = claims['categories'];
  return {
    token: token.trim(),
    subject: typeof claims['sub'] === 'string' ? claims['sub'] : 'unknown',
    role: claims['role'],
    ...(Array.isArray(categories) ? { categories: categories.map(String) } : {}),
    expiresAt,
  };
}

export function isSession(value: Session | { problem: string }): value is Session {
  return 'token' in value;
}

export function storedSession(): Session | undefined {
  const token = sessionStorage.getItem(STORAGE_KEY);
  if (token === null) return undefined;
  const session = sessionFromToken(token);
  if (isSession(session)) return session;
  sessionStorage.removeItem(STORAGE_KEY);
  return undefined;
}

export function storeSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, session.token);
}

export function forgetSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  // The identity provider's sign-out belongs to the session: it is offered once, at sign-out.
  sessionStorage.removeItem(END_SESSION_KEY);
}

/** What the address bar held when the app opened: a one-time link's code, or an old token link. */
export type SignInLink = { readonly code: string } | { readonly token: string };

/**
 * The sign-in link in the address bar (`/sign-in#code=…`), taken out of it at once. A fragment
 * never reaches the server or a proxy log, and `replaceState` overwrites the history entry, so the
 * code does not stay in the browser's history either (it would be worthless there once used, but
 * an unused one should not linger). `#token=…`, which earlier versions printed, is taken out the
 * same way so that the token does not stay in the history, but it no longer signs in.
 */
export function takeSignInLink(): SignInLink | undefined {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const code = fragment.get('code');
  const token = fragment.get('token');
  if (code === null && token === null) return undefined;
  window.history.replaceState(
    null,
    '',
    window.location.pathname === '/sign-in' ? '/' : window.location.pathname,
  );
  return code !== null ? { code } : { token: token ?? '' };
}

/**
 * Trades a one-time link's code for its token (`POST /v1/session/exchange`) and reads the
 * token's claims; a refused code (used, expired, unknown) is an ApiError with the server's code.
 */
export async function exchangeSignInCode(code: string): Promise<Session | { problem: string }> {
  const { token } = await callPublicApi<SignInExchangeResult>('POST', '/v1/session/exchange', { code });
  return sessionFromToken(token);
}
