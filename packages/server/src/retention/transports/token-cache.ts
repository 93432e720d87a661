import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
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
  // Bounded: a flood of distinct tokens pushes out the least recently used, never grows it.
  private readonly entries: LRUCache<string, Principal>;

  constructor(
    private readonly verify: VerifyToken,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = new LRUCache({ max: MAX_ENTRIES, ttlResolution: 0, perf: { now } });
  }

  async principal(token: string): Promise<Principal> {
    const cached = this.entries.get(token);
    if (cached) return cached;
    const now = this.now();
    const principal = await this.verify(token);
    const exp = decodeJwt(token).exp;
    // lru-cache serves an entry while `elapsed <= ttl`: one millisecond less than the time to
    // `exp` stops at exp as the token check does. A TTL of 0 would mean "forever": not kept then.
    const ttl = Math.min(TOKEN_CACHE_MS, typeof exp === 'number' ? exp * 1000 - now - 1 : 0);
    if (ttl > 0) this.entries.set(token, principal, { ttl });
    return principal;
  }
}
