import { createHash, randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { audit } from '../../audit/audit-trail.js';
import { ClaimMapping, ClaimMappingError } from '../../auth/claim-mapping.js';
import type { Principal } from '../../auth/principal.js';
import type { ServerSecrets } from '../../auth/server-secrets.js';
import type { MintedToken, Tokens } from '../../auth/tokens.js';
import { AppError } from '../../lib/app-error.js';
import type { Store } from '../../store/store.js';
import { ProviderClient } from './oidc-provider-client.js';
import type { OidcSignInConfig } from './oidc-sign-in-settings.js';

/** How long a started sign-in may take at the provider (login, consent) before it is refused. */
export const ATTEMPT_SECONDS = 10 * 60;
export const DEFAULT_OIDC_SESSION_SECONDS = 60 * 60;
const ATTEMPT_TYPE = 'lethe-oidc-attempt+jwt';

export interface StartedSignIn {
  /** Where the browser goes next: the provider's authorization endpoint with this attempt's parameters. */
  readonly authorizationUrl: string;
  /** The attempt, kept by the browser tab that started it and handed back with the code. */
  readonly attempt: string;
}

export interface FinishedSignIn extends MintedToken {
  /** The role and subject the provider's claims mapped to. */
  readonly principal: Principal;
  /** The provider's RP-initiated logout for this client, if it advertises one. */
  readonly endSessionUrl?: string;
}

/**
 * The dashboard's sign-in through the company's OIDC provider: authorization code flow with PKCE,
 * run by the server, with the browser only carrying things from one step to the next.
 *
 * `start` makes a state, a nonce and a PKCE verifier and seals them into an *attempt*, a short JWT
 * signed with a key derived from the installation secret (HS256), which the tab that started keeps
 * in its sessionStorage. Nothing is stored on the server, so any node of a cluster can finish it.
 * `finish` takes the attempt back with the provider's `code` and `state`: the attempt must be
 * this server's and unexpired and its state must equal the returned one (else `OIDC_STATE_INVALID`:
 * a code planted in another tab, or a forged callback); the code is exchanged with the attempt's
 * verifier (PKCE: a stolen code alone is worthless), the ID token is verified (signature against
 * the provider's JWKS, iss, aud, exp, nonce = the attempt's), its claims are mapped to a role and
 * scopes exactly as the API's external issuer maps them, and a short-lived Lethe token is minted
 * and audited (`sign-in.oidc` by `role:sub@issuer`, naming the token's jti).
 */
export class OidcSignIn {
  readonly providerName: string;
  private readonly provider: ProviderClient;
  private readonly claims: ClaimMapping;
  private readonly now: () => number;

  constructor(
    private readonly config: OidcSignInConfig,
    private readonly store: Store,
    private readonly secrets: ServerSecrets,
    private readonly tokens: Tokens,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.providerName = config.providerName ?? new URL(config.issuer).host;
    this.provider = new ProviderClient({ ...config, now: this.now });
    this.claims = new ClaimMapping(config);
  }

  async start(): Promise<StartedSignIn> {
    const metadata = await this.provider.discover();
    const state = randomToken();
    const nonce = randomToken();
    const verifier = randomToken();
    const issuedAt = Math.floor(this.now() / 1000);
    const attempt = await new SignJWT({ state, nonce, verifier })
      .setProtectedHeader({ alg: 'HS256', typ: ATTEMPT_TYPE })
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ATTEMPT_SECONDS)
      .setAudience(this.config.clientId)
      .sign(await this.secrets.key('oidc-attempts'));
    const url = new URL(metadata.authorization_endpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', this.config.redirectUri);
    url.searchParams.set('scope', this.config.scopes ?? 'openid');
    url.searchParams.set('state', state);
    url.searchParams.set('nonce', nonce);
    url.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
    url.searchParams.set('code_challenge_method', 'S256');
    return { authorizationUrl: url.href, attempt };
  }

  async finish(
    callback: { code: string; state: string; attempt: string },
    requestId?: string,
  ): Promise<FinishedSignIn> {
    const { nonce, verifier } = await this.openAttempt(callback.attempt, callback.state);
    const idToken = await this.provider.exchangeCode(callback.code, verifier);
    const claims = await this.provider.verifyIdToken(idToken, nonce);
    let principal: Principal;
    try {
      principal = this.claims.principalOf(claims, this.config.issuer);
    } catch (error) {
      if (!(error instanceof ClaimMappingError)) throw error;
      await this.auditRefusal(String(claims.sub), error.message, requestId);
      throw new AppError('OIDC_NO_ROLE', `This account has no role in Lethe: ${error.message}`);
    }
    principal = { ...principal, ...(requestId ? { requestId } : {}) };
    // Lethe's own token for the person: `sub@issuer`, so that two providers' subjects (or a local
    // token's subject of the same name) are never one actor in the audit log.
    const subject = `${principal.id}@${this.config.issuer}`;
    const minted = await this.tokens.mint({
      subject,
      role: principal.role,
      ttlSeconds: this.config.sessionSeconds ?? DEFAULT_OIDC_SESSION_SECONDS,
      ...(principal.system !== undefined ? { system: principal.system } : {}),
      ...(principal.categories ? { categories: principal.categories } : {}),
      ...(principal.grants ? { grants: principal.grants } : {}),
    });
    // Fail closed: a sign-in that cannot be audited does not happen (the token never leaves).
    await this.store.transaction((repository) =>
      audit(repository, principal, 'sign-in.oidc', `token:${minted.tokenId} ${principal.role}:${subject}`),
    );
    const endSessionUrl = await this.endSessionUrl();
    return { ...minted, principal, ...(endSessionUrl ? { endSessionUrl } : {}) };
  }

  /**
   * A person the provider vouched for but Lethe gives no role: worth a line in the audit log (who
   * tried, why refused). Refusals before the ID token is verified (state, code, signature) name
   * nobody the provider vouched for and anyone can cause them, so they are logged, not audited.
   */
  private async auditRefusal(sub: string, reason: string, requestId?: string): Promise<void> {
    await this.store.transaction((repository) =>
      repository.audit.append([
        {
          at: this.now(),
          actor: `none:${sub}@${this.config.issuer}`,
          action: 'sign-in.oidc.refused',
          target: `no role: ${reason}`,
          requestId: requestId ?? null,
        },
      ]),
    );
  }

  /** The attempt's secrets, if this server made it, it is unexpired and `state` is its state. */
  private async openAttempt(attempt: string, state: string): Promise<{ nonce: string; verifier: string }> {
    let payload;
    try {
      ({ payload } = await jwtVerify(attempt, await this.secrets.key('oidc-attempts'), {
        algorithms: ['HS256'],
        typ: ATTEMPT_TYPE,
        audience: this.config.clientId,
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      throw new AppError(
        'OIDC_STATE_INVALID',
        error instanceof errors.JWTExpired
          ? `The sign-in took longer than ${ATTEMPT_SECONDS / 60} minutes; start again.`
          : 'The sign-in was not started by this server; start again.',
      );
    }
    if (payload['state'] !== state) {
      throw new AppError(
        'OIDC_STATE_INVALID',
        'The provider answered for another sign-in (state); start again.',
      );
    }
    return { nonce: String(payload['nonce']), verifier: String(payload['verifier']) };
  }

  private async endSessionUrl(): Promise<string | undefined> {
    const { end_session_endpoint } = await this.provider.discover();
    if (!end_session_endpoint) return undefined;
    const url = new URL(end_session_endpoint);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('post_logout_redirect_uri', new URL('/', this.config.redirectUri).href);
    return url.href;
  }
}

/** 256 random bits, base64url: a state, a nonce or a PKCE verifier (43 characters, RFC 7636). */
function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
