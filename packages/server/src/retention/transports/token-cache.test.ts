import { describe, expect, it } from 'vitest';
import type { Principal } from '../../auth/principal.js';
import { TOKEN_CACHE_MS, TokenCache } from './token-cache.js';

/** A token's text as `decodeJwt` reads it; the signature is the injected verifier's business. */
function token(name: string, expSeconds: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'EdDSA' })}.${part({ sub: name, exp: expSeconds })}.sig`;
}

function setup() {
  let now = 1_700_000_000_000;
  const verified: string[] = [];
  const cache = new TokenCache(
    async (text) => {
      verified.push(text);
      return { name: text } as unknown as Principal;
    },
    () => now,
  );
  return { cache, verified, advance: (ms: number) => (now += ms), nowSeconds: () => now / 1000 };
}

describe('TokenCache', () => {
  it.each([
    ['once a minute for a long-lived token', 3_600, TOKEN_CACHE_MS],
    ['until its exp for a token about to expire', 10, 9_999],
  ])('serves a verified token %s, then verifies it again', async (_, lifetimeSeconds, servedMs) => {
    const { cache, verified, advance, nowSeconds } = setup();
    const text = token('a', nowSeconds() + lifetimeSeconds);
    await cache.principal(text);
    advance(servedMs);
    await cache.principal(text);
    expect(verified).toHaveLength(1);
    advance(1);
    await cache.principal(text);
    expect(verified).toHaveLength(2);
  });

  it('holds at most 1024 tokens, dropping the least recently used', async () => {
    const { cache, verified, nowSeconds } = setup();
    const first = token('first', nowSeconds() + 3600);
    await cache.principal(first);
    for (let i = 0; i < 1_024; i++) await cache.principal(token(`t${i}`, nowSeconds() + 3600));
    verified.length = 0;
    await cache.principal(first);
    expect(verified).toEqual([first]);
  });
});
