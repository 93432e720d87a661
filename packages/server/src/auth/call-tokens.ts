import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { AppError } from '../lib/app-error.js';
import type { Principal } from './principal.js';
import type { SigningKeys } from './signing-keys.js';
import { SIGNING_ALGORITHM, type TokenSettings } from './token-rules.js';

/**
 * The `typ` header of a call token (explicit typing, RFC 8725 §3.11): Lethe's API requires
 * `typ: JWT`, the SDK's call verifier requires this one, so neither kind of token can be replayed
 * as the other.
 */
export const CALL_TOKEN_TYPE = 'lethe-call+jwt';
/** The subject of every call token: Lethe itself makes the call. */
export const CALL_TOKEN_SUBJECT = 'lethe';
export const DEFAULT_CALL_TOKEN_LIFETIME_SECONDS = 5 * 60;
export const MAX_CALL_TOKEN_LIFETIME_SECONDS = 15 * 60;

export interface CallTokenRequest {
  /** The callee, e.g. `rights-client:crm`; never Lethe's own API audience. */
  readonly audience: string;
  /** Who the call is made for; carried in the `act` claim (RFC 8693 §4.1). */
  readonly actor: Principal;
  /** Default 300; at most 900. */
  readonly ttlSeconds?: number;
  /** The request that caused the call, as `request_id`, so both sides' logs can be joined. */
  readonly requestId?: string;
}

export interface MintedCallToken {
  readonly token: string;
  /** The token's `jti`, safe to log (the token itself never is). */
  readonly tokenId: string;
  readonly expiresAt: Date;
}

/** The `act` claim: the original actor. `iss` only for actors from an external issuer. */
export interface ActorClaim {
  readonly sub: string;
  readonly role: string;
  readonly iss?: string;
}

/**
 * Mints the short-lived token that goes with one outgoing call (DESIGN.md §5): audience = the
 * callee, a lifetime of minutes, and the original actor in `act`. Signed with the server's current
 * key, so callees verify it against `/.well-known/jwks.json` (the SDK's `createCallVerifier`).
 */
export class CallTokens {
  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: TokenSettings,
  ) {}

  async mint(request: CallTokenRequest): Promise<MintedCallToken> {
    const ttlSeconds = request.ttlSeconds ?? DEFAULT_CALL_TOKEN_LIFETIME_SECONDS;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
      throw new AppError('VALIDATION_FAILED', 'A call token lifetime must be a positive number of seconds.');
    }
    if (ttlSeconds > MAX_CALL_TOKEN_LIFETIME_SECONDS) {
      throw new AppError('TOKEN_LIFETIME_TOO_LONG', 'Call tokens may live at most 15 minutes.');
    }
    if (typeof request.audience !== 'string' || request.audience.trim() === '') {
      throw new AppError('VALIDATION_FAILED', 'A call token must name its audience (the callee).');
    }
    if (request.audience === this.settings.audience || request.audience === this.settings.issuer) {
      throw new AppError(
        'VALIDATION_FAILED',
        `A call token cannot be addressed to Lethe itself ("${request.audience}").`,
      );
    }
    const claims: Record<string, unknown> = { act: this.actorClaim(request.actor) };
    if (request.requestId !== undefined) claims['request_id'] = request.requestId;

    const key = await this.keys.current();
    const issuedAt = Math.floor(Date.now() / 1000);
    const expiresAt = issuedAt + ttlSeconds;
    const tokenId = randomUUID();
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: CALL_TOKEN_TYPE })
      .setIssuer(this.settings.issuer)
      .setSubject(CALL_TOKEN_SUBJECT)
      .setAudience(request.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(tokenId)
      .sign(key.privateKey);
    return { token, tokenId, expiresAt: new Date(expiresAt * 1000) };
  }

  /**
   * Only who acted and in which role: the callee needs no more, so scopes, categories and the
   * actor's own token id stay inside Lethe. A principal that itself acted for someone else would
   * nest the earlier actor as `act.act`; no principal carries one yet.
   */
  private actorClaim(actor: Principal): ActorClaim {
    const external = actor.issuer !== undefined && actor.issuer !== this.settings.issuer;
    return external
      ? { sub: actor.id, role: actor.role, iss: actor.issuer }
      : { sub: actor.id, role: actor.role };
  }
}
