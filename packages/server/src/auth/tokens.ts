import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../domain/app-error.js';
import { isRole, type Principal, type Role } from './principal.js';
import type { SigningKeys } from './signing-keys.js';
import {
  ALLOWED_ALGORITHMS,
  MAX_TOKEN_LIFETIME_SECONDS,
  SIGNING_ALGORITHM,
  TOKEN_TYPE,
  type TokenSettings,
} from './token-rules.js';

export interface MintRequest {
  readonly subject: string;
  readonly role: Role;
  readonly system?: string;
  readonly ttlSeconds: number;
}

export interface MintedToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/** Mints and verifies Lethe's own short-lived JWTs. */
export class Tokens {
  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: TokenSettings,
  ) {}

  async mint(request: MintRequest): Promise<MintedToken> {
    if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds <= 0) {
      throw new AppError('TOKEN_INVALID', 'The token lifetime must be a positive number of seconds.');
    }
    if (request.ttlSeconds > MAX_TOKEN_LIFETIME_SECONDS) {
      throw new AppError('TOKEN_LIFETIME_TOO_LONG', 'Tokens may live at most 12 hours.');
    }
    if (request.role === 'service' && !request.system) {
      throw new AppError('VALIDATION_FAILED', 'A service token must name its system.');
    }
    const key = await this.keys.current();
    const issuedAt = Math.floor(Date.now() / 1000);
    const claims = request.system ? { role: request.role, system: request.system } : { role: request.role };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: TOKEN_TYPE })
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setSubject(request.subject)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + request.ttlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresAt: new Date((issuedAt + request.ttlSeconds) * 1000) };
  }

  /** Verifies a bearer token and returns its principal; throws a 401 AppError with the reason. */
  async verify(token: string): Promise<Principal> {
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      kid = header.kid;
    } catch {
      throw new AppError('TOKEN_INVALID', 'The token is not a JWT.');
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
      });
      const lifetime = (payload.exp ?? 0) - (payload.iat ?? 0);
      if (lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
        throw new AppError('TOKEN_LIFETIME_TOO_LONG', 'Tokens may live at most 12 hours (exp - iat).');
      }
      if ((payload.iat ?? 0) > Math.floor(Date.now() / 1000) + 60) {
        throw new AppError('TOKEN_INVALID', 'The token was issued in the future.');
      }
      if (!isRole(payload.role)) throw new AppError('TOKEN_INVALID', 'The token carries no known role.');
      if (payload.role === 'service' && typeof payload.system !== 'string') {
        throw new AppError('TOKEN_INVALID', 'A service token must name its system.');
      }
      return {
        id: payload.sub as string,
        role: payload.role,
        ...(typeof payload.system === 'string' ? { system: payload.system } : {}),
        ...(payload.jti ? { tokenId: payload.jti } : {}),
      };
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof errors.JWTExpired) throw new AppError('TOKEN_EXPIRED');
      const reason = error instanceof errors.JOSEError ? error.message : 'verification failed';
      throw new AppError('TOKEN_INVALID', `The token is not valid: ${reason}.`);
    }
  }
}
