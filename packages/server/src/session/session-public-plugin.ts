import type { Tokens } from '../auth/tokens.js';
import type { FeatureOptions, FeaturePlugin } from '../http/feature-plugin.js';
import { rateLimitByAddress, type RateLimitSettings } from '../http/rate-limit.js';
import { jwksRoute } from './key-routes.js';
import { SignInExchange } from './sign-in-codes.js';
import { signInRoutes } from './sign-in-routes.js';
import type { OidcSignIn } from './oidc/oidc-sign-in.js';
import { oidcSignInRoutes } from './oidc/oidc-sign-in-routes.js';

export interface SessionPublicPluginOptions extends FeatureOptions {
  readonly tokens: Tokens;
  /** The limit per client address on the sign-in exchange; `false` turns it off. */
  readonly rateLimit: RateLimitSettings | false;
  /** Sign-in through the company's OIDC provider, when configured. */
  readonly oidcSignIn?: OidcSignIn | undefined;
}

/**
 * The session routes that take no token, registered outside the authenticated `/v1` scope:
 * `GET /.well-known/jwks.json`, and `POST /v1/session/exchange` and the OIDC sign-in's routes in a
 * scope of their own, limited per client address (there is no principal yet to limit).
 */
export const sessionPublicPlugin: FeaturePlugin<SessionPublicPluginOptions> = async (
  app,
  { services, tokens, rateLimit, oidcSignIn },
) => {
  jwksRoute(app, services);
  // The one `/v1` route without a token (its code is the credential), limited per client address.
  await app.register(async (exchangeScope) => {
    if (rateLimit) exchangeScope.addHook('onRequest', rateLimitByAddress(rateLimit));
    signInRoutes(exchangeScope, new SignInExchange(services.store, tokens, { now: tokens.keys.now }));
    if (oidcSignIn) oidcSignInRoutes(exchangeScope, oidcSignIn);
  });
};
