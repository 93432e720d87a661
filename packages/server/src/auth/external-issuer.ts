import { createRemoteJWKSet, jwtVerify } from 'jose';
import { AppError } from '../lib/app-error.js';
import { ClaimMapping, ClaimMappingError, type ClaimMappingConfig } from './claim-mapping.js';
import { isRole, ROLES, type Principal, type Role } from './principal.js';
import {
  ALLOWED_ALGORITHMS,
  CLOCK_SKEW_SECONDS,
  DEFAULT_TOKEN_SETTINGS,
  MAX_TOKEN_LIFETIME_SECONDS,
  toTokenError,
} from './token-rules.js';

export {
  DEFAULT_CATEGORIES_CLAIM,
  DEFAULT_GRANTS_CLAIM,
  DEFAULT_ROLE_CLAIM,
  DEFAULT_SYSTEM_CLAIM,
} from './claim-mapping.js';
/**
 * Token types accepted from an IdP: `JWT`, `at+jwt` (RFC 9068 access tokens), or no `typ` at all;
 * IdPs differ (Keycloak and Entra send `JWT`, Auth0 and Okta may send `at+jwt`, some none). The
 * audience check is what keeps an ID token for another client out.
 */
export const EXTERNAL_TOKEN_TYPES = ['jwt', 'at+jwt', 'application/at+jwt'] as const;

export interface ExternalIssuerConfig extends ClaimMappingConfig {
  /** Exactly the `iss` the IdP writes, e.g. `https://idp.example.com/realms/acme`. */
  readonly issuer: string;
  /** Where the IdP publishes its keys. */
  readonly jwksUrl: string;
  /** The `aud` tokens must carry; default `lethe-api`. */
  readonly audience?: string;
  /** Minimum time between two JWKS fetches caused by unknown kids; default 30 s. */
  readonly jwksCooldownMs?: number;
  /** How long a fetched JWKS is used before it is fetched again; default 10 min. */
  readonly jwksCacheMaxAgeMs?: number;
  /** Epoch milliseconds; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A trusted external OIDC issuer: its tokens are verified against its JWKS (fetched over HTTP,
 * cached, fetched again when a token names an unknown kid, at most once per cooldown) with the same
 * rules as Lethe's own tokens: algorithm allow-list (EdDSA, ES256), `iss`, `aud`, `sub`, `iat`,
 * `exp` required, `exp - iat <= 12 h`, no future `iat`.
 *
 * Roles and scopes are read by `ClaimMapping` (shared with the dashboard's OIDC sign-in). No role
 * found: 401 TOKEN_INVALID (the token was valid, but says nothing Lethe can act on).
 */
export class ExternalIssuer {
  readonly issuer: string;
  private readonly audience: string;
  private readonly claims: ClaimMapping;
  private readonly now: () => number;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(config: ExternalIssuerConfig) {
    this.issuer = config.issuer;
    this.audience = config.audience ?? DEFAULT_TOKEN_SETTINGS.audience;
    this.claims = new ClaimMapping(config);
    this.now = config.now ?? Date.now;
    this.jwks = createRemoteJWKSet(new URL(config.jwksUrl), {
      cooldownDuration: config.jwksCooldownMs ?? 30_000,
      cacheMaxAge: config.jwksCacheMaxAgeMs ?? 10 * 60_000,
      timeoutDuration: 5_000,
    });
  }

  /** Verifies a token of this issuer and returns its principal; throws a 401 AppError. */
  async verify(token: string): Promise<Principal> {
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.jwks, {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer: this.issuer,
        audience: this.audience,
        requiredClaims: ['exp', 'iat', 'sub'],
        currentDate: new Date(this.now()),
      });
      const typ = protectedHeader.typ?.toLowerCase();
      if (typ !== undefined && !(EXTERNAL_TOKEN_TYPES as readonly string[]).includes(typ)) {
        throw new AppError('TOKEN_INVALID', `Tokens of type "${protectedHeader.typ}" are not accepted.`);
      }
      const lifetime = (payload.exp ?? 0) - (payload.iat ?? 0);
      if (lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
        throw new AppError('TOKEN_LIFETIME_TOO_LONG', 'Tokens may live at most 12 hours (exp - iat).');
      }
      if ((payload.iat ?? 0) > Math.floor(this.now() / 1000) + CLOCK_SKEW_SECONDS) {
        throw new AppError('TOKEN_INVALID', 'The token was issued in the future.');
      }
      return this.claims.principalOf(payload, this.issuer);
    } catch (error) {
      if (error instanceof ClaimMappingError) throw new AppError('TOKEN_INVALID', error.message);
      throw toTokenError(error);
    }
  }
}

/** The variables of the dashboard's sign-in through the same provider (`oidcSignInFromEnv`). */
export const OIDC_SIGN_IN_VARIABLES = [
  'LETHE_OIDC_CLIENT_ID',
  'LETHE_OIDC_CLIENT_SECRET',
  'LETHE_OIDC_REDIRECT_URI',
  'LETHE_OIDC_SCOPES',
  'LETHE_OIDC_PROVIDER_NAME',
] as const;

/**
 * The external issuer configured by `LETHE_OIDC_*` variables, or undefined when
 * `LETHE_OIDC_ISSUER` is unset, or when only the dashboard's sign-in is configured
 * (`LETHE_OIDC_CLIENT_ID` without `LETHE_OIDC_JWKS_URL`: the provider's own tokens are then not
 * accepted by the API). Throws an Error naming the variable at fault.
 */
export function externalIssuerFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): ExternalIssuerConfig | undefined {
  const issuer = oidcIssuerFromEnv(env);
  if (issuer === undefined) return undefined;
  const jwksUrl = env['LETHE_OIDC_JWKS_URL'];
  if (!jwksUrl) {
    if (env['LETHE_OIDC_CLIENT_ID']) return undefined;
    throw new Error(
      'LETHE_OIDC_JWKS_URL (or LETHE_OIDC_CLIENT_ID, for the dashboard sign-in only) is required with LETHE_OIDC_ISSUER',
    );
  }
  secureUrlFromEnv('LETHE_OIDC_JWKS_URL', jwksUrl);
  const audience = env['LETHE_OIDC_AUDIENCE'];
  return {
    issuer,
    jwksUrl,
    ...(audience ? { audience } : {}),
    ...claimMappingFromEnv(env),
  };
}

/**
 * `LETHE_OIDC_ISSUER`, checked, or undefined when unset; throws when another `LETHE_OIDC_*`
 * variable is set without it.
 */
export function oidcIssuerFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const issuer = env['LETHE_OIDC_ISSUER'];
  const others = [
    'LETHE_OIDC_JWKS_URL',
    'LETHE_OIDC_AUDIENCE',
    'LETHE_OIDC_ROLE_CLAIM',
    'LETHE_OIDC_ROLE_MAP',
    'LETHE_OIDC_SYSTEM_CLAIM',
    'LETHE_OIDC_CATEGORIES_CLAIM',
    'LETHE_OIDC_GRANTS_CLAIM',
    ...OIDC_SIGN_IN_VARIABLES,
  ].filter((name) => env[name] !== undefined && env[name] !== '');
  if (issuer === undefined || issuer === '') {
    if (others.length > 0) throw new Error(`${others.join(', ')} set without LETHE_OIDC_ISSUER`);
    return undefined;
  }
  if (issuer === DEFAULT_TOKEN_SETTINGS.issuer) {
    throw new Error(`LETHE_OIDC_ISSUER must not be "${issuer}": that is Lethe's own issuer`);
  }
  return issuer;
}

/**
 * A URL Lethe fetches keys or tokens from: keys or codes sent in clear could be read or swapped
 * on the way, so plain http only to this machine. Throws naming the variable.
 */
export function secureUrlFromEnv(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} is not a URL: "${value}"`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
    throw new Error(`${name} must be https:// (http:// only for localhost), got "${value}"`);
  }
  return url;
}

export function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** `LETHE_OIDC_ROLE_CLAIM`, `_ROLE_MAP`, `_SYSTEM_CLAIM`, `_CATEGORIES_CLAIM`, `_GRANTS_CLAIM`. */
export function claimMappingFromEnv(env: NodeJS.ProcessEnv): ClaimMappingConfig {
  const claim = (name: string): string | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    if (!/^[A-Za-z0-9_.:/-]+$/.test(value)) throw new Error(`${name} is not a claim name: "${value}"`);
    return value;
  };
  const roleClaim = claim('LETHE_OIDC_ROLE_CLAIM');
  const systemClaim = claim('LETHE_OIDC_SYSTEM_CLAIM');
  const categoriesClaim = claim('LETHE_OIDC_CATEGORIES_CLAIM');
  const grantsClaim = claim('LETHE_OIDC_GRANTS_CLAIM');
  const roleMap = env['LETHE_OIDC_ROLE_MAP'] ? parseRoleMap(env['LETHE_OIDC_ROLE_MAP']) : undefined;
  return {
    ...(roleClaim ? { roleClaim } : {}),
    ...(roleMap ? { roleMap } : {}),
    ...(systemClaim ? { systemClaim } : {}),
    ...(categoriesClaim ? { categoriesClaim } : {}),
    ...(grantsClaim ? { grantsClaim } : {}),
  };
}

/** `privacy-admins=admin,privacy-office=dpo` → a claim-value → role map. */
export function parseRoleMap(text: string): Record<string, Role> {
  const map: Record<string, Role> = {};
  for (const entry of text.split(',')) {
    const separator = entry.lastIndexOf('=');
    const value = entry.slice(0, separator).trim();
    const role = entry.slice(separator + 1).trim();
    if (separator <= 0 || value === '') {
      throw new Error(`LETHE_OIDC_ROLE_MAP entries look like group=role, got "${entry}"`);
    }
    if (!isRole(role)) {
      throw new Error(`LETHE_OIDC_ROLE_MAP: "${role}" is not one of ${ROLES.join(', ')}`);
    }
    if (Object.hasOwn(map, value)) throw new Error(`LETHE_OIDC_ROLE_MAP names "${value}" twice`);
    map[value] = role;
  }
  return map;
}
