import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../lib/app-error.js';
import type { ExternalIssuer } from './external-issuer.js';
import { isGrant, isRole, type Grant, type Principal, type Role } from './principal.js';
import type { SigningKeys } from './signing-keys.js';
import { VerifiedTokens } from './verified-tokens.js';
import {
  ALLOWED_ALGORITHMS,
  CATEGORY_PATTERN,
  CLOCK_SKEW_SECONDS,
  DEFAULT_TOKEN_SETTINGS,
  MAX_TOKEN_LIFETIME_SECONDS,
  parseCategoriesClaim,
  parseGrantsClaim,
  SIGNING_ALGORITHM,
  TOKEN_TYPE,
  toTokenError,
  type TokenSettings,
} from './token-rules.js';

export interface MintRequest {
  readonly subject: string;
  readonly role: Role;
  readonly system?: string;
  /** Data categories the token may see (`user.contact`); absent: every category. */
  readonly categories?: readonly string[];
  readonly grants?: readonly Grant[];
  readonly ttlSeconds: number;
}

/**
 * What minting refuses, checked on its own for whoever stores a request to mint later (a sign-in
 * link): a request that passes here does not fail when it is minted.
 */
export function checkMintRequest(request: MintRequest): void {
  if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds <= 0) {
    throw new AppError('TOKEN_INVALID', 'The token lifetime must be a positive number of seconds.');
  }
  if (request.ttlSeconds > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new AppError('TOKEN_LIFETIME_TOO_LONG', 'Tokens may live at most 12 hours.');
  }
  if (request.role === 'service' && !request.system) {
    throw new AppError('VALIDATION_FAILED', 'A service token must name its system.');
  }
  const invalidCategory = request.categories?.find((category) => !CATEGORY_PATTERN.test(category));
  if (invalidCategory !== undefined) {
    throw new AppError('VALIDATION_FAILED', `"${invalidCategory}" is not a category key like user.contact.`);
  }
  const invalidGrant = request.grants?.find((grant) => !isGrant(grant));
  if (invalidGrant !== undefined) {
    throw new AppError('VALIDATION_FAILED', `"${String(invalidGrant)}" is not a grant.`);
  }
}

export interface MintedToken {
  readonly token: string;
  /** The token's `jti`: what logs and the audit log name instead of the token. */
  readonly tokenId: string;
  readonly expiresAt: Date;
}

export interface TokensOptions {
  /** Epoch milliseconds; default the signing keys' clock. */
  readonly now?: () => number;
  /** External OIDC issuers whose tokens are accepted too. */
  readonly externalIssuers?: readonly ExternalIssuer[];
}

/**
 * Mints Lethe's own short-lived JWTs and verifies bearer tokens: Lethe's own (`iss` = the
 * configured issuer, checked against the stored keys) and those of trusted external issuers,
 * chosen by the token's (unverified) `iss` and then verified entirely by that issuer's rules.
 */
export class Tokens {
  private readonly now: () => number;
  private readonly externalIssuers: ReadonlyMap<string, ExternalIssuer>;
  /** Lethe's own tokens already verified (external issuers' tokens are verified every time). */
  private readonly verified = new VerifiedTokens();

  constructor(
    readonly keys: SigningKeys,
    private readonly settings: TokenSettings = DEFAULT_TOKEN_SETTINGS,
    options: TokensOptions = {},
  ) {
    this.now = options.now ?? keys.now;
    const issuers = new Map<string, ExternalIssuer>();
    for (const external of options.externalIssuers ?? []) {
      if (external.issuer === settings.issuer || issuers.has(external.issuer)) {
        throw new Error(`issuer "${external.issuer}" is configured twice`);
      }
      issuers.set(external.issuer, external);
    }
    this.externalIssuers = issuers;
  }

  async mint(request: MintRequest): Promise<MintedToken> {
    checkMintRequest(request);
    const claims: Record<string, unknown> = { role: request.role };
    if (request.system) claims['system'] = request.system;
    if (request.categories !== undefined) claims['categories'] = [...new Set(request.categories)];
    if (request.grants !== undefined) claims['grants'] = [...new Set(request.grants)];
    const key = await this.keys.current();
    const issuedAt = Math.floor(this.now() / 1000);
    const tokenId = randomUUID();
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: TOKEN_TYPE })
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setSubject(request.subject)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + request.ttlSeconds)
      .setJti(tokenId)
      .sign(key.privateKey);
    return { token, tokenId, expiresAt: new Date((issuedAt + request.ttlSeconds) * 1000) };
  }

  /** Verifies a bearer token and returns its principal; throws a 401 AppError with the reason. */
  async verify(token: string): Promise<Principal> {
    const known = this.verified.lookup(token, Math.floor(this.now() / 1000));
    if (known) {
      if (await this.keys.verificationKey(known.kid)) return known.principal;
      // Its key was revoked, retired past its grace or removed: verify in full, which refuses it.
      this.verified.forget(token);
    }
    let kid: string | undefined;
    let issuer: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
      issuer = decodeJwt(token).iss;
    } catch {
      throw new AppError('TOKEN_INVALID', 'The token is not a JWT.');
    }
    // The unverified `iss` only chooses whose rules and keys verify the token.
    if (typeof issuer !== 'string') throw new AppError('TOKEN_INVALID', 'The token names no issuer (iss).');
    if (issuer !== this.settings.issuer) {
      const external = this.externalIssuers.get(issuer);
      if (!external) throw new AppError('ISSUER_NOT_TRUSTED');
      return external.verify(token);
    }

    const key = kid ? await this.keys.verificationKey(kid) : undefined;
    if (!key) throw new AppError('TOKEN_INVALID', 'The token was not signed by a key this server knows.');
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        typ: TOKEN_TYPE,
        requiredClaims: ['exp', 'iat', 'sub'],
        currentDate: new Date(this.now()),
      });
      const lifetime = (payload.exp ?? 0) - (payload.iat ?? 0);
      if (lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
        throw new AppError('TOKEN_LIFETIME_TOO_LONG', 'Tokens may live at most 12 hours (exp - iat).');
      }
      if ((payload.iat ?? 0) > Math.floor(this.now() / 1000) + CLOCK_SKEW_SECONDS) {
        throw new AppError('TOKEN_INVALID', 'The token was issued in the future.');
      }
      if (!isRole(payload.role)) throw new AppError('TOKEN_INVALID', 'The token carries no known role.');
      if (payload.role === 'service' && typeof payload.system !== 'string') {
        throw new AppError('TOKEN_INVALID', 'A service token must name its system.');
      }
      if (payload.system !== undefined && typeof payload.system !== 'string') {
        throw new AppError('TOKEN_INVALID', 'The "system" claim must be a string.');
      }
      const categories = parseCategoriesClaim(payload['categories']);
      const grants = parseGrantsClaim(payload['grants']);
      const principal: Principal = Object.freeze({
        id: payload.sub as string,
        role: payload.role,
        issuer: this.settings.issuer,
        ...(typeof payload.system === 'string' ? { system: payload.system } : {}),
        ...(categories ? { categories } : {}),
        ...(grants ? { grants } : {}),
        ...(payload.jti ? { tokenId: payload.jti } : {}),
      });
      // The window jwtVerify checked (`nbf`, future `iat`, `exp`), for the cache to check again.
      const validFrom = Math.max(payload.nbf ?? -Infinity, (payload.iat ?? 0) - CLOCK_SKEW_SECONDS);
      this.verified.remember(
        token,
        { principal, kid: kid as string, validFrom, expiresAt: payload.exp ?? 0 },
        Math.floor(this.now() / 1000),
      );
      return principal;
    } catch (error) {
      throw toTokenError(error);
    }
  }
}
