import { Type, type Static } from 'typebox';
import { Instant } from './common.js';

/**
 * Who the caller is, as the server sees the bearer token, and what it may do: the dashboard
 * shows only the pages a token can use, without a copy of the permission table.
 */
export const SessionView = Type.Object({
  subject: Type.String(),
  role: Type.String(),
  issuer: Type.Optional(Type.String()),
  system: Type.Optional(Type.String()),
  /** Data categories the token is limited to; absent: every category. */
  categories: Type.Optional(Type.Array(Type.String())),
  grants: Type.Optional(Type.Array(Type.String())),
  /**
   * The permissions the token may use (`policies:read`, …): its role's, less, for a token with
   * `categories`, those whose every route answers for every category (rights requests, legal
   * holds, …). Narrower scopes still apply inside: a kept action may answer for the token's
   * categories only, or refuse a part that spans them all (the data map's drift report).
   */
  actions: Type.Array(Type.String()),
});
export type SessionView = Static<typeof SessionView>;

/**
 * `POST /v1/session/exchange`: the code of a one-time sign-in link (`lethe token create --link`),
 * traded once for a token.
 */
export const SignInExchange = Type.Object({
  /** The link's `#code=…`: 22 or more base64url characters. */
  code: Type.String({ minLength: 22, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' }),
});
export type SignInExchange = Static<typeof SignInExchange>;

export const SignInExchangeResult = Type.Object({
  token: Type.String(),
  /** The token's expiry, counted from the exchange. */
  expiresAt: Instant,
});
export type SignInExchangeResult = Static<typeof SignInExchangeResult>;

/** `GET /v1/session/oidc`: whether and where the dashboard can sign in through the OIDC provider. */
export const OidcSignInInfo = Type.Object({
  /** For the button: "Sign in with <providerName>". */
  providerName: Type.String(),
});
export type OidcSignInInfo = Static<typeof OidcSignInInfo>;

/** `POST /v1/session/oidc/start`: where to send the browser, and the attempt to keep until it returns. */
export const OidcSignInStart = Type.Object({
  authorizationUrl: Type.String(),
  attempt: Type.String(),
});
export type OidcSignInStart = Static<typeof OidcSignInStart>;

/** `POST /v1/session/oidc/finish`: the provider's answer at the redirect URI, with the attempt. */
export const OidcSignInFinish = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 2048 }),
  state: Type.String({ minLength: 1, maxLength: 512 }),
  attempt: Type.String({ minLength: 1, maxLength: 4096 }),
});
export type OidcSignInFinish = Static<typeof OidcSignInFinish>;

export const OidcSignInResult = Type.Object({
  token: Type.String(),
  expiresAt: Instant,
  /** The provider's sign-out for this client, offered when the user signs out of Lethe. */
  endSessionUrl: Type.Optional(Type.String()),
});
export type OidcSignInResult = Static<typeof OidcSignInResult>;
