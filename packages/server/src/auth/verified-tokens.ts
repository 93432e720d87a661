import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.js';

/** Tokens remembered at most; a few thousand callers each holding a token or two. */
const MAX_TOKENS = 10_000;

/** What a full verification of one of Lethe's own tokens found. */
export interface VerifiedToken {
  readonly principal: Principal;
  /** The key that signed it: every use asks the signing keys again whether it still verifies. */
  readonly kid: string;
  /** Epoch seconds: the token is valid while `validFrom <= now < expiresAt` (as `jwtVerify` decides). */
  readonly validFrom: number;
  readonly expiresAt: number;
}

/**
 * Tokens that passed a full verification (signature, claims, lifetime), by the token's exact
 * text, so that a caller presenting the same token again is not checked again: the Ed25519
 * signature check was the largest single cost of a read (about a fifth of the server's CPU under
 * 100 concurrent subject reads).
 *
 * What a cache hit still checks, so that it never answers differently from a full verification:
 * the token's time window against the caller's clock (an entry is also evicted at its `exp`), and
 * that the key which signed it still verifies (`SigningKeys.verificationKey`: a revoked key, one
 * past its retirement grace or deleted from the store, refuses the token and the entry is
 * dropped). Tokens carry no revocation of their own; their key is what revokes them. Only
 * verified tokens are remembered, and a different text (another signature) is another entry.
 */
export class VerifiedTokens {
  private readonly entries = new LRUCache<string, VerifiedToken>({ max: MAX_TOKENS });

  /** The entry for `token` if its window holds at `nowSeconds`; a stale one is dropped. */
  lookup(token: string, nowSeconds: number): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.validFrom <= nowSeconds && nowSeconds < entry.expiresAt) return entry;
    this.entries.delete(token);
    return undefined;
  }

  remember(token: string, entry: VerifiedToken, nowSeconds: number): void {
    const ttlMs = (entry.expiresAt - nowSeconds) * 1000;
    if (ttlMs > 0) this.entries.set(token, entry, { ttl: ttlMs });
  }

  forget(token: string): void {
    this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
