import { decodeJwt } from 'jose';
import type { Principal } from '../../auth/principal.js';

/** Verifies a Lethe token (`Tokens.verify`): its principal, or a thrown `AppError` with the reason. */
export type VerifyToken = (token: string) => Promise<Principal>;

/** How long a verified token is trusted without verifying it again (a revoked key's reach). */
export const TOKEN_CACHE_MS = 60_000;
const MAX_ENTRIES = 1_024;

/**
 * Verified tokens of NATS publishers. Every message carries its publisher's token, and one
 * publisher sends thousands of messages a second with the same one: verifying the signature once
 * a minute instead of once a message keeps the check on every message affordable. An entry lives
 * until the token expires or a minute has passed, whichever comes first, so a revoked signing key
 * stops being honoured within a minute. Failures are not cached: the next message verifies again.
 */
export class TokenCache {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly verify: VerifyToken,
    private readonly now: () => number = Date.now,
  ) {}

  async principal(token: string): Promise<Principal> {
    const now = this.now();
    const cached = this.entries.get(token);
    if (cached && cached.until > now) return cached.principal;
    const principal = await this.verify(token);
    const exp = decodeJwt(token).exp;
    const until = Math.min(now + TOKEN_CACHE_MS, typeof exp === 'number' ? exp * 1000 : now);
    // Bounded: a flood of distinct tokens starts the cache afresh rather than growing it.
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(token, { principal, until });
    return principal;
  }
}
