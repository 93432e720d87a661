import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { AppError } from '../lib/app-error.js';
import { isRole, ROLES, type Principal, type Role } from './principal.js';
import {
  ALLOWED_ALGORITHMS,
  CLOCK_SKEW_SECONDS,
  DEFAULT_TOKEN_SETTINGS,
  MAX_TOKEN_LIFETIME_SECONDS,
  parseCategoriesClaim,
  parseGrantsClaim,
  toTokenError,
} from './token-rules.js';

export const DEFAULT_ROLE_CLAIM = 'lethe_role';
export const DEFAULT_SYSTEM_CLAIM = 'lethe_system';
export const DEFAULT_CATEGORIES_CLAIM = 'lethe_categories';
export const DEFAULT_GRANTS_CLAIM = 'lethe_grants';
/**
 * Token types accepted from an IdP: `JWT`, `at+jwt` (RFC 9068 access tokens), or no `typ` at all;
 * IdPs differ (Keycloak and Entra send `JWT`, Auth0 and Okta may send `at+jwt`, some none). The
 * audience check is what keeps an ID token for another client out.
 */
export const EXTERNAL_TOKEN_TYPES = ['jwt', 'at+jwt', 'application/at+jwt'] as const;

export interface ExternalIssuerConfig {
  /** Exactly the `iss` the IdP writes, e.g. `https://idp.example.com/realms/acme`. */
  readonly issuer: string;
  /** Where the IdP publishes its keys. */
  readonly jwksUrl: string;
  /** The `aud` tokens must carry; default `lethe-api`. */
  readonly audience?: string;
  /** Claim holding the role (a string, or an array such as `groups`); default `lethe_role`. */
  readonly roleClaim?: string;
  /**
   * Claim value → role, e.g. `{ 'privacy-admins': 'admin', 'privacy-office': 'dpo' }`. Without a
   * map, values must be role names.
   */
  readonly roleMap?: Readonly<Record<string, Role>>;
  /** Claim naming a service token's system; default `lethe_system`. */
  readonly systemClaim?: string;
  /** Claim listing the data categories the token may see; default `lethe_categories`. */
  readonly categoriesClaim?: string;
  /** Claim listing grants such as `subject-ids`; default `lethe_grants`. */
  readonly grantsClaim?: string;
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
 * Roles. The role claim may hold a string or an array (e.g. group names).
 * - Without a map, the values that are role names count; they must name exactly one role (an array
 *   holding `admin` and `auditor` is refused as ambiguous rather than guessed). Other array
 *   entries (unrelated groups) are ignored; a string must be a role name.
 * - With a map, only mapped values count (role names themselves are not accepted unless mapped).
 *   When several values map to different roles, the first role in `ROLES` order wins (admin, dpo,
 *   auditor, service): the map is the operator's explicit statement that membership of each group
 *   grants that role, so the union of grants is intended, and a person in both the admin and the
 *   DPO group is an admin.
 * - No role found: 401 TOKEN_INVALID (the token was valid, but says nothing Lethe can act on).
 */
export class ExternalIssuer {
  readonly issuer: string;
  private readonly audience: string;
  private readonly roleClaim: string;
  private readonly roleMap: ReadonlyMap<string, Role> | undefined;
  private readonly systemClaim: string;
  private readonly categoriesClaim: string;
  private readonly grantsClaim: string;
  private readonly now: () => number;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(config: ExternalIssuerConfig) {
    this.issuer = config.issuer;
    this.audience = config.audience ?? DEFAULT_TOKEN_SETTINGS.audience;
    this.roleClaim = config.roleClaim ?? DEFAULT_ROLE_CLAIM;
    this.systemClaim = config.systemClaim ?? DEFAULT_SYSTEM_CLAIM;
    this.categoriesClaim = config.categoriesClaim ?? DEFAULT_CATEGORIES_CLAIM;
    this.grantsClaim = config.grantsClaim ?? DEFAULT_GRANTS_CLAIM;
    this.now = config.now ?? Date.now;
    if (config.roleMap) {
      for (const [value, role] of Object.entries(config.roleMap)) {
        if (!isRole(role)) throw new Error(`role map entry "${value}" names unknown role "${String(role)}"`);
      }
      this.roleMap = new Map(Object.entries(config.roleMap));
    }
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
      return this.principalOf(payload);
    } catch (error) {
      throw toTokenError(error);
    }
  }

  private principalOf(payload: JWTPayload): Principal {
    const role = this.roleOf(payload[this.roleClaim]);
    const system = payload[this.systemClaim];
    if (system !== undefined && typeof system !== 'string') {
      throw new AppError('TOKEN_INVALID', `The "${this.systemClaim}" claim must be a string.`);
    }
    if (role === 'service' && system === undefined) {
      throw new AppError('TOKEN_INVALID', `A service token must name its system ("${this.systemClaim}").`);
    }
    const categories = parseCategoriesClaim(payload[this.categoriesClaim], this.categoriesClaim);
    const grants = parseGrantsClaim(payload[this.grantsClaim], this.grantsClaim);
    return {
      id: payload.sub as string,
      role,
      issuer: this.issuer,
      ...(system !== undefined ? { system } : {}),
      ...(categories ? { categories } : {}),
      ...(grants ? { grants } : {}),
      ...(payload.jti ? { tokenId: payload.jti } : {}),
    };
  }

  private roleOf(claim: unknown): Role {
    const values = typeof claim === 'string' ? [claim] : claim;
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) {
      throw new AppError('TOKEN_INVALID', `The token carries no "${this.roleClaim}" claim Lethe can read.`);
    }
    const roles = new Set<Role>();
    for (const value of values) {
      const role = this.roleMap ? this.roleMap.get(value) : isRole(value) ? value : undefined;
      if (role) roles.add(role);
    }
    if (roles.size === 0) {
      throw new AppError('TOKEN_INVALID', `The "${this.roleClaim}" claim names no role Lethe knows.`);
    }
    if (roles.size > 1 && !this.roleMap) {
      throw new AppError('TOKEN_INVALID', `The "${this.roleClaim}" claim names several roles.`);
    }
    return ROLES.find((role) => roles.has(role))!;
  }
}

/**
 * The external issuer configured by `LETHE_OIDC_*` variables, or undefined when
 * `LETHE_OIDC_ISSUER` is unset. Throws an Error naming the variable at fault.
 */
export function externalIssuerFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): ExternalIssuerConfig | undefined {
  const issuer = env['LETHE_OIDC_ISSUER'];
  const jwksUrl = env['LETHE_OIDC_JWKS_URL'];
  const others = [
    'LETHE_OIDC_JWKS_URL',
    'LETHE_OIDC_AUDIENCE',
    'LETHE_OIDC_ROLE_CLAIM',
    'LETHE_OIDC_ROLE_MAP',
    'LETHE_OIDC_SYSTEM_CLAIM',
    'LETHE_OIDC_CATEGORIES_CLAIM',
    'LETHE_OIDC_GRANTS_CLAIM',
  ].filter((name) => env[name] !== undefined && env[name] !== '');
  if (issuer === undefined || issuer === '') {
    if (others.length > 0) throw new Error(`${others.join(', ')} set without LETHE_OIDC_ISSUER`);
    return undefined;
  }
  if (issuer === DEFAULT_TOKEN_SETTINGS.issuer) {
    throw new Error(`LETHE_OIDC_ISSUER must not be "${issuer}": that is Lethe's own issuer`);
  }
  if (!jwksUrl) throw new Error('LETHE_OIDC_JWKS_URL is required with LETHE_OIDC_ISSUER');
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch {
    throw new Error(`LETHE_OIDC_JWKS_URL is not a URL: "${jwksUrl}"`);
  }
  // Keys fetched in clear could be swapped on the way; plain http only to this machine.
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    throw new Error(`LETHE_OIDC_JWKS_URL must be https:// (http:// only for localhost), got "${jwksUrl}"`);
  }
  const claim = (name: string): string | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    if (!/^[A-Za-z0-9_.:/-]+$/.test(value)) throw new Error(`${name} is not a claim name: "${value}"`);
    return value;
  };
  const audience = env['LETHE_OIDC_AUDIENCE'];
  const roleClaim = claim('LETHE_OIDC_ROLE_CLAIM');
  const systemClaim = claim('LETHE_OIDC_SYSTEM_CLAIM');
  const categoriesClaim = claim('LETHE_OIDC_CATEGORIES_CLAIM');
  const grantsClaim = claim('LETHE_OIDC_GRANTS_CLAIM');
  const roleMap = env['LETHE_OIDC_ROLE_MAP'] ? parseRoleMap(env['LETHE_OIDC_ROLE_MAP']) : undefined;
  return {
    issuer,
    jwksUrl,
    ...(audience ? { audience } : {}),
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
