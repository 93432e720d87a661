import type { ClaimMappingConfig } from '../../auth/claim-mapping.js';
import { claimMappingFromEnv, oidcIssuerFromEnv, secureUrlFromEnv } from '../../auth/external-issuer.js';

/**
 * The dashboard's sign-in through the company's OIDC provider (authorization code + PKCE). The
 * issuer and the claim mapping are the external issuer's (`LETHE_OIDC_*`); the client is the one
 * registered for the dashboard at the provider.
 */
export interface OidcSignInConfig extends ClaimMappingConfig {
  /** Exactly the provider's `iss`; its discovery document is read from `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  /** The dashboard's client id at the provider; the ID token's `aud` must hold it. */
  readonly clientId: string;
  /** For a confidential client (sent as HTTP Basic to the token endpoint); absent: a public client. */
  readonly clientSecret?: string;
  /** The dashboard's `/sign-in/callback` as the browser reaches it, registered at the provider. */
  readonly redirectUri: string;
  /** Space-separated; must hold `openid`. Default `openid`. */
  readonly scopes?: string;
  /** Shown on the button: "Sign in with <name>". Default: the issuer's host. */
  readonly providerName?: string;
  /** Lifetime of the Lethe token a sign-in mints, in seconds; default 1 hour. */
  readonly sessionSeconds?: number;
}

/**
 * The dashboard's OIDC sign-in configured by `LETHE_OIDC_ISSUER` and `LETHE_OIDC_CLIENT_ID`
 * (with `LETHE_OIDC_REDIRECT_URI`, optionally `_CLIENT_SECRET`, `_SCOPES`, `_PROVIDER_NAME` and the
 * claim mapping), or undefined without a client id. Throws an Error naming the variable at fault.
 */
export function oidcSignInFromEnv(env: NodeJS.ProcessEnv): OidcSignInConfig | undefined {
  const issuer = oidcIssuerFromEnv(env);
  const clientId = env['LETHE_OIDC_CLIENT_ID'];
  if (issuer === undefined || !clientId) {
    for (const name of ['LETHE_OIDC_CLIENT_SECRET', 'LETHE_OIDC_REDIRECT_URI', 'LETHE_OIDC_SCOPES']) {
      if (env[name]) throw new Error(`${name} set without LETHE_OIDC_CLIENT_ID`);
    }
    return undefined;
  }
  // The discovery document, the keys and the token endpoint are all found from the issuer.
  secureUrlFromEnv('LETHE_OIDC_ISSUER', issuer);
  const redirectUri = env['LETHE_OIDC_REDIRECT_URI'];
  if (!redirectUri) throw new Error('LETHE_OIDC_REDIRECT_URI is required with LETHE_OIDC_CLIENT_ID');
  const redirect = secureUrlFromEnv('LETHE_OIDC_REDIRECT_URI', redirectUri);
  if (redirect.pathname !== '/sign-in/callback') {
    throw new Error(`LETHE_OIDC_REDIRECT_URI must end in /sign-in/callback, got "${redirectUri}"`);
  }
  const scopes = env['LETHE_OIDC_SCOPES'];
  if (scopes !== undefined && scopes !== '' && !scopes.split(/\s+/).includes('openid')) {
    throw new Error(`LETHE_OIDC_SCOPES must include openid, got "${scopes}"`);
  }
  const clientSecret = env['LETHE_OIDC_CLIENT_SECRET'];
  const providerName = env['LETHE_OIDC_PROVIDER_NAME'];
  return {
    issuer,
    clientId,
    redirectUri,
    ...(clientSecret ? { clientSecret } : {}),
    ...(scopes ? { scopes: scopes.trim() } : {}),
    ...(providerName ? { providerName } : {}),
    ...claimMappingFromEnv(env),
  };
}
