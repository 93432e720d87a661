import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '../lib/app-error.js';
import { actorOf, audit } from '../audit/audit-trail.js';
import type { SignInCodeRow } from './session-tables.js';
import type { Store } from '../store/store.js';
import { isGrant, isRole, type Principal } from '../auth/principal.js';
import { checkMintRequest, type MintedToken, type MintRequest, type Tokens } from '../auth/tokens.js';

/**
 * One-time sign-in links (`lethe token create --link`): instead of a token, the link carries a
 * random code that the dashboard trades once for a token (`POST /v1/session/exchange`). A link
 * that was used, or that waited longer than its short lifetime, signs nobody in; one that leaked
 * after use (history, a chat log) is worthless.
 *
 * The code is 256 random bits: guessing one is hopeless, so the store keeps a plain SHA-256 of it
 * (a keyed hash only helps secrets that could be guessed). Whoever reads the table learns who
 * will be signed in, never a usable code; a used code's row is deleted.
 */
export const DEFAULT_SIGN_IN_LINK_SECONDS = 10 * 60;
/** A link is for handing over now, not for later: an hour at most. */
export const MAX_SIGN_IN_LINK_SECONDS = 60 * 60;
const CODE_BYTES = 32;

export interface SignInCode {
  /** The secret: shown once, in the link, and nowhere else. */
  readonly code: string;
  /** Names the link in the audit log. */
  readonly id: string;
  /** After this the code signs nobody in. */
  readonly expiresAt: Date;
}

export interface SignInCodeOptions {
  /** Seconds the link may wait to be used; default 10 minutes. */
  readonly lifetimeSeconds?: number;
  /** Epoch milliseconds; default `Date.now`. */
  readonly now?: () => number;
}

export function hashSignInCode(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}

/**
 * Stores a code for `token` (the token's lifetime counts from the exchange) on behalf of
 * `creator`, audited as `sign-in.create` by the link's id, and returns the code.
 */
export async function createSignInCode(
  store: Store,
  creator: Principal,
  token: MintRequest,
  options: SignInCodeOptions = {},
): Promise<SignInCode> {
  const lifetimeSeconds = options.lifetimeSeconds ?? DEFAULT_SIGN_IN_LINK_SECONDS;
  if (
    !Number.isInteger(lifetimeSeconds) ||
    lifetimeSeconds <= 0 ||
    lifetimeSeconds > MAX_SIGN_IN_LINK_SECONDS
  ) {
    throw new AppError('VALIDATION_FAILED', 'A sign-in link lives between 1 second and 1 hour.');
  }
  checkMintRequest(token);
  const now = (options.now ?? Date.now)();
  const code = randomBytes(CODE_BYTES).toString('base64url');
  const row: SignInCodeRow = {
    code_hash: hashSignInCode(code),
    id: randomUUID(),
    subject: token.subject,
    role: token.role,
    system: token.system ?? null,
    categories: token.categories ? JSON.stringify([...new Set(token.categories)]) : null,
    grants: token.grants ? JSON.stringify([...new Set(token.grants)]) : null,
    ttl_seconds: token.ttlSeconds,
    created_by: actorOf(creator),
    created_at: now,
    expires_at: now + lifetimeSeconds * 1000,
  };
  await store.transaction(async (repository) => {
    // Codes that expired unused go whenever a new one is made: the table stays small without a timer.
    await repository.signInCodes.deleteExpired(now);
    await repository.signInCodes.insert(row);
    await audit(
      repository,
      creator,
      'sign-in.create',
      `sign-in:${row.id} ${token.role}:${token.subject} until ${new Date(row.expires_at).toISOString()}`,
    );
  });
  return { code, id: row.id, expiresAt: new Date(row.expires_at) };
}

/** Trades a sign-in code for its token, once. */
export class SignInExchange {
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly tokens: Tokens,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The code's token, minted now. An unknown, used or expired code is one answer,
   * `SIGN_IN_CODE_INVALID`: which of the three is nobody's business but the audit log's.
   * The token's mint is audited (`token.mint` by the link's creator, naming the link) in the
   * transaction that uses the code up.
   */
  async exchange(code: string, requestId?: string): Promise<MintedToken> {
    const codeHash = hashSignInCode(code);
    const waiting = await this.store.repository.signInCodes.find(codeHash, this.now());
    if (!waiting) throw new AppError('SIGN_IN_CODE_INVALID');
    // Minted before the code is used up, because the signing key cannot be read inside a
    // transaction (SigningKeys.current). If a concurrent exchange wins the code, this token is
    // dropped unseen and unaudited: it never leaves the process.
    const minted = await this.tokens.mint(mintRequestOf(waiting));
    const used = await this.store.transaction(async (repository) => {
      const row = await repository.signInCodes.consume(codeHash, this.now());
      if (!row) return false;
      await repository.audit.append([
        {
          at: this.now(),
          actor: row.created_by,
          action: 'token.mint',
          target: `token:${minted.tokenId} ${row.role}:${row.subject} sign-in:${row.id}`,
          requestId: requestId ?? null,
        },
      ]);
      return true;
    });
    if (!used) throw new AppError('SIGN_IN_CODE_INVALID');
    return minted;
  }
}

function mintRequestOf(row: SignInCodeRow): MintRequest {
  if (!isRole(row.role)) throw new Error(`sign-in code ${row.id} names an unknown role "${row.role}"`);
  const grants = row.grants === null ? undefined : (JSON.parse(row.grants) as unknown[]);
  if (grants && !grants.every(isGrant)) throw new Error(`sign-in code ${row.id} names an unknown grant`);
  return {
    subject: row.subject,
    role: row.role,
    ttlSeconds: row.ttl_seconds,
    ...(row.system !== null ? { system: row.system } : {}),
    ...(row.categories !== null ? { categories: JSON.parse(row.categories) as string[] } : {}),
    ...(grants ? { grants } : {}),
  };
}
