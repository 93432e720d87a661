import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { AppError } from '../../lib/app-error.js';
import { CLOCK_SKEW_SECONDS } from '../../auth/token-rules.js';

/**
 * Signature algorithms accepted on ID tokens: asymmetric only (no `none`, no HMAC with the
 * client secret). Wider than for API tokens because providers sign ID tokens with RS256 by
 * default (Keycloak, Entra ID, Okta, Auth0).
 */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;
const FETCH_TIMEOUT_MS = 5_000;
/** How long the discovery document is used before it is read again. */
const DISCOVERY_MAX_AGE_MS = 10 * 60_000;

/** What Lethe reads from the provider's discovery document. */
export interface ProviderMetadata {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
  readonly end_session_endpoint?: string;
  readonly code_challenge_methods_supported?: readonly string[];
}

export interface ProviderClientOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly redirectUri: string;
  /** Epoch milliseconds; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Lethe's side of the code flow with one provider: discovery, the code exchange at the token
 * endpoint, and the ID token's verification (signature against the provider's JWKS found by
 * discovery; `iss`, `aud` = the client id, `exp`, `iat`, `sub`, `nonce`, and `azp` when there
 * are several audiences, OIDC Core 3.1.3.7).
 *
 * A provider that cannot be reached, or that refuses Lethe's own credentials, is
 * `502 OIDC_PROVIDER_ERROR` (nothing the user can fix); a code it refuses is `OIDC_CODE_INVALID`.
 */
export class ProviderClient {
  private metadata: { value: Promise<ProviderMetadata>; at: number } | undefined;
  private jwks: { uri: string; keys: ReturnType<typeof createRemoteJWKSet> } | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ProviderClientOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The discovery document, read once per 10 minutes (again at once after a failure). */
  discover(): Promise<ProviderMetadata> {
    if (!this.metadata || this.now() - this.metadata.at > DISCOVERY_MAX_AGE_MS) {
      const value = this.readDiscovery();
      value.catch(() => (this.metadata = undefined));
      this.metadata = { value, at: this.now() };
    }
    return this.metadata.value;
  }

  private async readDiscovery(): Promise<ProviderMetadata> {
    const url = `${this.options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const document = await fetchJson(url, { method: 'GET' });
    if (!document.ok) throw providerError(`its discovery document answered ${document.status}`);
    const body = document.body as Partial<ProviderMetadata>;
    // OIDC Discovery 4.3: the document must name exactly the issuer it was read from.
    if (body.issuer !== this.options.issuer) {
      throw providerError(`its discovery document names the issuer "${String(body.issuer)}"`);
    }
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
      if (typeof body[field] !== 'string') throw providerError(`its discovery document has no ${field}`);
    }
    const methods = body.code_challenge_methods_supported;
    if (Array.isArray(methods) && !methods.includes('S256')) {
      throw providerError('it does not support PKCE with S256');
    }
    return body as ProviderMetadata;
  }

  /** Trades an authorization code and its PKCE verifier for the provider's ID token. */
  async exchangeCode(code: string, codeVerifier: string): Promise<string> {
    const { token_endpoint } = await this.discover();
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.options.redirectUri,
      code_verifier: codeVerifier,
    });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (this.options.clientSecret !== undefined) {
      // client_secret_basic (RFC 6749 2.3.1): both parts form-encoded before base64.
      const user = encodeURIComponent(this.options.clientId);
      const password = encodeURIComponent(this.options.clientSecret);
      headers['authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    } else {
      form.set('client_id', this.options.clientId);
    }
    const answer = await fetchJson(token_endpoint, { method: 'POST', headers, body: form.toString() });
    const body = (answer.body ?? {}) as { error?: unknown; error_description?: unknown; id_token?: unknown };
    if (!answer.ok) {
      // invalid_grant: the code is expired, used, for another client or another verifier.
      if (body.error === 'invalid_grant') {
        throw new AppError(
          'OIDC_CODE_INVALID',
          `The identity provider refused the code: ${String(body.error_description ?? 'invalid_grant')}.`,
        );
      }
      throw providerError(`its token endpoint answered ${answer.status} ${String(body.error ?? '')}`.trim());
    }
    if (typeof body.id_token !== 'string') {
      throw new AppError('OIDC_ID_TOKEN_INVALID', 'The identity provider returned no ID token.');
    }
    return body.id_token;
  }

  /** The claims of an ID token issued to this client for `nonce`; throws `OIDC_ID_TOKEN_INVALID`. */
  async verifyIdToken(idToken: string, nonce: string): Promise<JWTPayload> {
    const { jwks_uri } = await this.discover();
    if (this.jwks?.uri !== jwks_uri) {
      this.jwks = {
        uri: jwks_uri,
        keys: createRemoteJWKSet(new URL(jwks_uri), {
          cooldownDuration: 30_000,
          cacheMaxAge: 10 * 60_000,
          timeoutDuration: FETCH_TIMEOUT_MS,
        }),
      };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks.keys, {
        algorithms: [...ID_TOKEN_ALGORITHMS],
        issuer: this.options.issuer,
        audience: this.options.clientId,
        requiredClaims: ['exp', 'iat', 'sub', 'nonce'],
        currentDate: new Date(this.now()),
        clockTolerance: CLOCK_SKEW_SECONDS,
      }));
    } catch (error) {
      if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
        throw providerError('its keys could not be read');
      }
      const reason = error instanceof errors.JOSEError ? error.message : 'verification failed';
      throw new AppError('OIDC_ID_TOKEN_INVALID', `The ID token is not valid: ${reason}.`);
    }
    if (payload['nonce'] !== nonce) {
      throw new AppError('OIDC_ID_TOKEN_INVALID', 'The ID token was not issued for this sign-in (nonce).');
    }
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload['azp'] !== this.options.clientId) {
      throw new AppError('OIDC_ID_TOKEN_INVALID', 'The ID token was issued to another party (azp).');
    }
    return payload;
  }
}

function providerError(reason: string): AppError {
  return new AppError('OIDC_PROVIDER_ERROR', `The identity provider cannot be used: ${reason}.`);
}

async function fetchJson(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
): Promise<{ ok: boolean; status: number; body: unknown }> {
  let response: Response;
  try {
    // Redirects are not followed: the endpoints are the ones discovery named.
    response = await fetch(url, {
      ...init,
      headers: { accept: 'application/json', ...init.headers },
      redirect: 'error',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch {
    throw providerError(`${new URL(url).origin} could not be reached`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw providerError(`${new URL(url).pathname} answered something other than JSON`);
  }
  return { ok: response.ok, status: response.status, body };
}
