import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { API_PATH_PREFIXES, coversPath, pathOf } from './api-paths.js';

/** Header name (lower case) to value. */
export type HeaderSet = Readonly<Record<string, string>>;

/**
 * Helmet's middlewares only call `setHeader` on the response, so running them once against a
 * collector yields the header set as data: it is then the same for routed answers and for the ones
 * Node and Fastify write on a bare socket (`clientErrorHandler`), which no plugin hook reaches.
 */
function helmetHeaders(options: HelmetOptions): HeaderSet {
  const headers: Record<string, string> = {};
  const collector = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
    removeHeader: () => undefined,
  };
  helmet(options)({} as IncomingMessage, collector as unknown as ServerResponse, () => undefined);
  return headers;
}

/** Only the headers Lethe chose; Helmet's other defaults stay off so answers do not change. */
const HELMET_BASE: HelmetOptions = {
  contentSecurityPolicy: false,
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: { policy: 'same-origin' },
  originAgentCluster: false,
  referrerPolicy: { policy: 'no-referrer' },
  // Ignored by browsers over plain HTTP; takes effect once a TLS proxy fronts the server.
  strictTransportSecurity: { maxAge: 31536000, includeSubDomains: false },
  xContentTypeOptions: true,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: { action: 'deny' },
  xPermittedCrossDomainPolicies: false,
  xPoweredBy: false,
  xXssProtection: false,
};

/** Headers every answer carries, whatever its path. */
export const BASE_SECURITY_HEADERS: HeaderSet = helmetHeaders(HELMET_BASE);

function contentSecurityPolicy(directives: Record<string, string[]>): string {
  const headers = helmetHeaders({
    ...HELMET_BASE,
    contentSecurityPolicy: { useDefaults: false, directives },
  });
  return headers['content-security-policy'] ?? '';
}

/** JSON answers load nothing and may not be framed. */
export const API_CONTENT_SECURITY_POLICY = contentSecurityPolicy({
  'default-src': ["'none'"],
  'frame-ancestors': ["'none'"],
});

/**
 * The dashboard loads its own scripts, styles and images and talks to its own origin only: no
 * inline script or style, no eval, no other origin, no framing, no plugins. The data map's layout
 * (ELK) runs in a Web Worker loaded from its own asset: `worker-src` says so explicitly rather
 * than leaving it to the fallback on `script-src` (no `blob:` or `data:` workers either).
 */
export const DASHBOARD_CONTENT_SECURITY_POLICY = contentSecurityPolicy({
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'worker-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'"],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'manifest-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
});

/**
 * Headers added for paths under a prefix, on top of the base set. The longest matching prefix
 * wins; `/` matches every path. The dashboard owns `/` (its client routes can be any path), so
 * each of the API's own paths keeps the API's policy with a rule of its own.
 */
export interface PathHeaderRule {
  readonly prefix: string;
  readonly headers: HeaderSet;
}

const API_HEADERS: HeaderSet = { 'content-security-policy': API_CONTENT_SECURITY_POLICY };

export const PATH_HEADER_RULES: readonly PathHeaderRule[] = [
  { prefix: '/', headers: { 'content-security-policy': DASHBOARD_CONTENT_SECURITY_POLICY } },
  ...API_PATH_PREFIXES.filter((prefix) => prefix !== '/v1').map((prefix) => ({
    prefix,
    headers: API_HEADERS,
  })),
  {
    prefix: '/v1',
    // Subject data must not sit in browser or proxy caches.
    headers: { 'content-security-policy': API_CONTENT_SECURITY_POLICY, 'cache-control': 'no-store' },
  },
];

/** The security headers for an answer to `url` (a request URL; the query is ignored). */
export function securityHeadersFor(
  url: string,
  rules: readonly PathHeaderRule[] = PATH_HEADER_RULES,
): HeaderSet {
  // `//v1/x` is not routed but must not escape the `/v1` rule either.
  const path = pathOf(url);
  let best: PathHeaderRule | undefined;
  for (const rule of rules) {
    if (coversPath(rule.prefix, path) && (!best || rule.prefix.length > best.prefix.length)) best = rule;
  }
  return { ...BASE_SECURITY_HEADERS, ...best?.headers };
}

/** The headers of every answer: its request id, and the security headers for its URL's path. */
export function answerHeaders(
  requestId: string,
  url: string,
  rules: readonly PathHeaderRule[] = PATH_HEADER_RULES,
): HeaderSet {
  return { 'x-request-id': requestId, ...securityHeadersFor(url, rules) };
}

/**
 * `onSend` hook for the whole app: every answer, errors and 404s included. The answers no hook
 * sees call `answerHeaders` themselves (`handleFrameworkError`, `clientErrorHandler`).
 */
export function answerHeadersHook(rules: readonly PathHeaderRule[] = PATH_HEADER_RULES) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    reply.headers(answerHeaders(String(request.id), request.url, rules));
  };
}
