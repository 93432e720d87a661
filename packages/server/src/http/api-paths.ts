/**
 * The paths the API owns outside the dashboard. The dashboard (served at `/`) never answers for
 * them, even when nothing else does, and they keep the API's security headers: a mistyped API URL
 * gets the API's JSON 404, not the dashboard's HTML.
 */
export const API_PATH_PREFIXES = ['/v1', '/openapi.json', '/healthz', '/readyz', '/metrics', '/.well-known'];

/** `prefix` covers `path` on a segment boundary: `/v1` covers `/v1` and `/v1/x`, not `/v10`. */
export function coversPath(prefix: string, path: string): boolean {
  if (prefix === '' || prefix === '/') return true;
  const bare = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === bare || path.startsWith(`${bare}/`);
}

/** The path of a request URL: no query, repeated slashes folded (`//v1/x` is still under `/v1`). */
export function pathOf(url: string): string {
  return (url.split('?')[0] ?? '').replace(/\/{2,}/g, '/');
}
