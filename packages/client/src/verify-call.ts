import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

/** The `typ` header Lethe puts on call tokens; its API tokens carry `JWT` and are refused here. */
export const CALL_TOKEN_TYPE = 'lethe-call+jwt';

const ALGORITHMS = ['EdDSA', 'ES256'];

/** Why a call was refused: no bearer token, a token that fails a check, or one past its `exp`. */
export type LetheCallErrorCode = 'TOKEN_MISSING' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED';

/**
 * Thrown by {@link CallVerifier.verify}. Answer the caller with 401; `code` is stable, `message`
 * is for logs. When Lethe's key set cannot be fetched the code is `TOKEN_INVALID` (fail closed)
 * and `cause` holds the fetch error.
 */
export class LetheCallError extends Error {
  override readonly name = 'LetheCallError';

  constructor(
    readonly code: LetheCallErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface CallVerifierOptions {
  /** Lethe's key set, e.g. `https://lethe.internal:7420/.well-known/jwks.json`. */
  jwksUrl: string | URL;
  /** This service's own audience, as configured in Lethe for it (e.g. `rights-client:crm`). */
  audience: string;
  /** Lethe's issuer name. Default `lethe`. */
  issuer?: string;
  /** Longest accepted `exp - iat`, and oldest accepted `iat`. Default 900 (Lethe mints 300). */
  maxLifetimeSeconds?: number;
  /** Allowed clock skew between Lethe and this service. Default 30. */
  clockToleranceSeconds?: number;
  /**
   * How long the fetched key set is used before it is fetched again. Default 600. A key Lethe
   * revokes is accepted here until then.
   */
  jwksCacheMaxAgeSeconds?: number;
  /**
   * A token naming an unknown `kid` (after a key rotation) makes the key set be fetched again,
   * but not sooner than this after the previous fetch, so made-up kids cannot flood Lethe.
   * Default 30.
   */
  jwksCooldownSeconds?: number;
}

/** The original actor Lethe made the call for (the token's `act` claim). */
export interface CallActor {
  /** The actor's subject, e.g. a DPO's user id. */
  id: string;
  /** `admin`, `dpo`, `auditor` or `service` today; kept a string so newer roles pass through. */
  role: string;
  /** Only for actors from an external identity provider: its issuer URL. */
  issuer?: string;
}

export interface VerifiedCall {
  actor: CallActor;
  /** The audience the token was minted for (this service's). */
  audience: string;
  /** The Lethe request that caused the call, when there was one; also in `x-request-id`. */
  requestId?: string;
  expiresAt: Date;
  /** The token's `jti`: unique per call, log it (never the token) or use it to refuse replays. */
  tokenId: string;
}

export interface CallVerifier {
  /**
   * Verifies the `Authorization` header of a call from Lethe and returns who it was made for.
   * Rejects with a {@link LetheCallError}.
   */
  verify(authorization: string | undefined): Promise<VerifiedCall>;
}

/**
 * Verifies calls from Lethe (to rights clients and webhooks). Each call carries a token minted for
 * that call alone: signed by Lethe's current key (fetched from `jwksUrl`, cached, and refetched
 * when a token names an unknown key, so rotations need no restart), `typ: lethe-call+jwt`,
 * `alg` EdDSA or ES256, `iss` Lethe, `aud` this service, a lifetime of minutes, and the original
 * actor in `act` (RFC 8693 §4.1). Anything else is refused.
 *
 * Create one verifier per process and reuse it: it holds the key cache.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createCallVerifier, LetheCallError } from '@lethe/client';
 *
 * const calls = createCallVerifier({
 *   jwksUrl: 'https://lethe.internal/.well-known/jwks.json',
 *   audience: 'rights-client:crm',
 * });
 * createServer(async (req, res) => {
 *   try {
 *     const call = await calls.verify(req.headers.authorization);
 *     console.log(`erasure requested by ${call.actor.id} (${call.actor.role}), request ${call.requestId}`);
 *     // ... act on the request ...
 *     res.writeHead(204).end();
 *   } catch (error) {
 *     if (!(error instanceof LetheCallError)) throw error;
 *     res.writeHead(401, { 'content-type': 'application/json' });
 *     res.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
 *   }
 * }).listen(8080);
 */
export function createCallVerifier(options: CallVerifierOptions): CallVerifier {
  const issuer = options.issuer ?? 'lethe';
  const maxLifetimeSeconds = options.maxLifetimeSeconds ?? 900;
  const clockToleranceSeconds = options.clockToleranceSeconds ?? 30;
  if (typeof options.audience !== 'string' || options.audience === '') {
    throw new TypeError('createCallVerifier: audience must be a non-empty string');
  }
  if (!Number.isFinite(maxLifetimeSeconds) || maxLifetimeSeconds <= 0) {
    throw new RangeError('createCallVerifier: maxLifetimeSeconds must be a positive number');
  }
  if (!Number.isFinite(clockToleranceSeconds) || clockToleranceSeconds < 0) {
    throw new RangeError('createCallVerifier: clockToleranceSeconds must not be negative');
  }
  const cacheMaxAge = seconds('jwksCacheMaxAgeSeconds', options.jwksCacheMaxAgeSeconds ?? 600);
  const cooldownDuration = seconds('jwksCooldownSeconds', options.jwksCooldownSeconds ?? 30);
  // Parsing here makes a malformed URL fail at construction, not at the first call.
  const keySet = createRemoteJWKSet(new URL(options.jwksUrl), { cacheMaxAge, cooldownDuration });

  return {
    async verify(authorization) {
      const token = bearerToken(authorization);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keySet, {
          algorithms: ALGORITHMS,
          typ: CALL_TOKEN_TYPE,
          issuer,
          audience: options.audience,
          requiredClaims: ['exp', 'iat', 'jti'],
          // Also refuses an `iat` in the future (beyond the tolerance).
          maxTokenAge: maxLifetimeSeconds,
          clockTolerance: clockToleranceSeconds,
        }));
      } catch (error) {
        throw refusal(error);
      }
      const lifetime = (payload.exp as number) - (payload.iat as number);
      if (lifetime > maxLifetimeSeconds) {
        throw new LetheCallError(
          'TOKEN_INVALID',
          `The call token lives ${lifetime} s (exp - iat), more than the ${maxLifetimeSeconds} s allowed.`,
        );
      }
      if (typeof payload.jti !== 'string' || payload.jti === '') {
        throw new LetheCallError('TOKEN_INVALID', 'The call token has no token id (jti).');
      }
      const requestId = payload['request_id'];
      if (requestId !== undefined && typeof requestId !== 'string') {
        throw new LetheCallError('TOKEN_INVALID', 'The call token has a malformed request_id.');
      }
      return {
        actor: actorOf(payload['act']),
        audience: options.audience,
        ...(requestId !== undefined ? { requestId } : {}),
        expiresAt: new Date((payload.exp as number) * 1000),
        tokenId: payload.jti,
      };
    },
  };
}

/** A non-negative number of seconds, in milliseconds. */
function seconds(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`createCallVerifier: ${name} must be a non-negative number`);
  }
  return value * 1000;
}

function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw new LetheCallError('TOKEN_MISSING', 'A bearer token is required.');
  }
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!match?.[1]) throw new LetheCallError('TOKEN_MISSING', 'Use "Authorization: Bearer <token>".');
  return match[1];
}

function actorOf(act: unknown): CallActor {
  if (typeof act !== 'object' || act === null || Array.isArray(act)) {
    throw new LetheCallError('TOKEN_INVALID', 'The call token names no actor (act).');
  }
  const { sub, role, iss } = act as Record<string, unknown>;
  if (typeof sub !== 'string' || sub === '' || typeof role !== 'string' || role === '') {
    throw new LetheCallError('TOKEN_INVALID', 'The call token actor (act) needs a sub and a role.');
  }
  if (iss !== undefined && typeof iss !== 'string') {
    throw new LetheCallError('TOKEN_INVALID', 'The call token actor (act) has a malformed iss.');
  }
  return iss === undefined ? { id: sub, role } : { id: sub, role, issuer: iss };
}

function refusal(error: unknown): LetheCallError {
  if (error instanceof errors.JWTExpired) {
    return new LetheCallError('TOKEN_EXPIRED', `The call token has expired: ${error.message}.`, {
      cause: error,
    });
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || isFetchFailure(error)) {
    const reason = error instanceof Error ? error.message : String(error);
    return new LetheCallError('TOKEN_INVALID', `Lethe's signing keys could not be fetched: ${reason}.`, {
      cause: error,
    });
  }
  const reason = error instanceof errors.JOSEError ? error.message : 'verification failed';
  return new LetheCallError('TOKEN_INVALID', `The call token is not valid: ${reason}.`, { cause: error });
}

/** Transport failures of the key-set fetch surface as plain errors, not JOSE errors. */
function isFetchFailure(error: unknown): boolean {
  return error instanceof Error && !(error instanceof errors.JOSEError);
}
