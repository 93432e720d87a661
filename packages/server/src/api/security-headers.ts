import type { FastifyReply, FastifyRequest } from 'fastify';

/** Header name (lower case) to value. */
export type HeaderSet = Readonly<Record<string, string>>;

/** Headers every answer carries, whatever its path. */
export const BASE_SECURITY_HEADERS: HeaderSet = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  // Ignored by browsers over plain HTTP; takes effect once a TLS proxy fronts the server.
  'strict-transport-security': 'max-age=31536000',
};

/** JSON answers load nothing and may not be framed. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * Headers added for paths under a prefix, on top of the base set. The longest matching prefix
 * wins; `''` matches every path. A dashboard (served at `/`, with its own scripts and styles)
 * adds a rule with its own `content-security-policy` here and keeps `/v1` in front of it.
 */
export interface PathHeaderRule {
  readonly prefix: string;
  readonly headers: HeaderSet;
}

export const PATH_HEADER_RULES: readonly PathHeaderRule[] = [
  { prefix: '', headers: { 'content-security-policy': API_CONTENT_SECURITY_POLICY } },
  {
    prefix: '/v1',
    // Subject data must not sit in browser or proxy caches.
    headers: { 'content-security-policy': API_CONTENT_SECURITY_POLICY, 'cache-control': 'no-store' },
  },
];

/** `prefix` covers `path` on a segment boundary: `/v1` covers `/v1` and `/v1/x`, not `/v10`. */
function covers(prefix: string, path: string): boolean {
  if (prefix === '' || prefix === '/') return true;
  const bare = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === bare || path.startsWith(`${bare}/`);
}

/** The security headers for an answer to `url` (a request URL; the query is ignored). */
export function securityHeadersFor(
  url: string,
  rules: readonly PathHeaderRule[] = PATH_HEADER_RULES,
): HeaderSet {
  // `//v1/x` is not routed but must not escape the `/v1` rule either.
  const path = (url.split('?')[0] ?? '').replace(/\/{2,}/g, '/');
  let best: PathHeaderRule | undefined;
  for (const rule of rules) {
    if (covers(rule.prefix, path) && (!best || rule.prefix.length > best.prefix.length)) best = rule;
  }
  return { ...BASE_SECURITY_HEADERS, ...best?.headers };
}

/** `onSend` hook for the whole app: every answer, errors and 404s included. */
export function securityHeaders(rules: readonly PathHeaderRule[] = PATH_HEADER_RULES) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    reply.headers(securityHeadersFor(request.url, rules));
  };
}
