import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DASHBOARD_CONTENT_SECURITY_POLICY,
  API_CONTENT_SECURITY_POLICY,
} from '../src/http/security-headers.js';
import { createLethe, type Lethe } from '../src/server.js';
import { DASHBOARD_DIST } from '../../dashboard/test/support/build.js';
import { SQLITE_BACKEND } from './support/backends.js';

/** `lethe serve` serves the built dashboard at `/` without shadowing any of the API's paths. */

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

let lethe: Lethe;
let dispose: () => Promise<void>;

beforeAll(async () => {
  const location = await SQLITE_BACKEND.create({ migrated: true });
  lethe = await createLethe({ ...location, dashboardDir: DASHBOARD_DIST });
  dispose = async () => {
    await lethe.close();
    await location.dispose();
  };
});
afterAll(() => dispose());

function get(url: string, accept?: string) {
  return lethe.app.inject({ method: 'GET', url, headers: accept ? { accept } : {} });
}

describe('the dashboard', () => {
  it('is the page at /, with its own content security policy, revalidated on every load', async () => {
    const response = await get('/', HTML);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('<div id="root"></div>');
    expect(response.headers['content-security-policy']).toBe(DASHBOARD_CONTENT_SECURITY_POLICY);
    expect(response.headers['content-security-policy']).not.toContain('unsafe-inline');
    // The data map's layout worker (ELK) is a same-origin script, named explicitly.
    const directives = String(response.headers['content-security-policy']).split(';');
    expect(directives).toContain("worker-src 'self'");
    expect(directives).toContain("script-src 'self'");
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['x-frame-options']).toBe('DENY');
  });

  it('serves the hashed assets the page names, cacheable for good', async () => {
    const page = (await get('/', HTML)).body;
    const script = /src="\/assets\/([^"]+\.js)"/.exec(page)?.[1];
    expect(script, 'the page names its script').toBeDefined();
    expect(readdirSync(join(DASHBOARD_DIST, 'assets'))).toContain(script);
    const response = await get(`/assets/${script}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('sends the precompressed file to a browser that accepts it, and the plain one otherwise', async () => {
    const page = (await get('/', HTML)).body;
    const script = /src="\/assets\/([^"]+\.js)"/.exec(page)?.[1];
    const original = readFileSync(join(DASHBOARD_DIST, 'assets', script!));
    for (const [encoding, decode] of [
      ['br', brotliDecompressSync],
      ['gzip', gunzipSync],
    ] as const) {
      const response = await lethe.app.inject({
        method: 'GET',
        url: `/assets/${script}`,
        headers: { 'accept-encoding': encoding },
      });
      expect(response.statusCode, encoding).toBe(200);
      expect(response.headers['content-encoding'], encoding).toBe(encoding);
      expect(response.headers['vary'], encoding).toMatch(/accept-encoding/i);
      expect(response.rawPayload.length, encoding).toBeLessThan(original.length / 2);
      expect(decode(response.rawPayload).equals(original), encoding).toBe(true);
    }
    const plain = await lethe.app.inject({ method: 'GET', url: `/assets/${script}` });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.equals(original)).toBe(true);
  });

  it('answers a page navigation to a client route with the same page, so a reload keeps the route', async () => {
    for (const path of [
      '/policies',
      '/subjects/user-42',
      '/requests/abc?tab=tasks',
      '/sign-in',
      // Ids with a dot or "@" are client routes too, not file names (a reload used to answer 404).
      '/subjects/jane.doe@example.com',
      `/subjects/${encodeURIComponent('jane.doe@example.com')}`,
      '/policies/retention.v2',
    ]) {
      const response = await get(path, HTML);
      expect(response.statusCode, path).toBe(200);
      expect(response.body, path).toContain('<div id="root"></div>');
    }
  });

  it('never shadows the API: its paths answer JSON even to a browser', async () => {
    const missing = await get('/v1/no-such-thing', HTML);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('ROUTE_NOT_FOUND');
    expect(missing.headers['cache-control']).toBe('no-store');
    for (const path of ['/healthz', '/openapi.json', '/.well-known/jwks.json', '/metrics']) {
      const response = await get(path, HTML);
      expect(response.statusCode, path).toBe(200);
      expect(response.headers['content-type'], path).not.toMatch(/^text\/html/);
      expect(response.headers['content-security-policy'], path).toBe(API_CONTENT_SECURITY_POLICY);
    }
    for (const path of ['/healthz/nothing', '/.well-known/nothing']) {
      expect((await get(path, HTML)).json().error.code, path).toBe('ROUTE_NOT_FOUND');
    }
  });

  it('is a 404 for what is not a page: a missing file, a non-browser client, another method', async () => {
    expect((await get('/assets/missing-0000.js')).statusCode).toBe(404);
    expect((await get('/assets/missing-0000.js', HTML)).json().error.code).toBe('ROUTE_NOT_FOUND');
    expect((await get('/favicon.ico', HTML)).statusCode).toBe(404);
    expect((await get('/robots.txt', HTML)).json().error.code).toBe('ROUTE_NOT_FOUND');
    expect((await get('/policies')).json().error.code).toBe('ROUTE_NOT_FOUND');
    const post = await lethe.app.inject({ method: 'POST', url: '/policies', headers: { accept: HTML } });
    expect(post.json().error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('does not let a path climb out of the assets folder', async () => {
    for (const path of [
      '/assets/../index.html',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2fpackage.json',
      '/assets/..%2Findex.html',
    ]) {
      const response = await get(path);
      // A plain 404 in the envelope, never `send`'s own refusal turned into a 500 (found by the fuzzer).
      expect(response.statusCode, path).toBe(404);
      expect(response.json().error.code, path).toBe('ROUTE_NOT_FOUND');
      expect(response.body, path).not.toContain('"name": "@lethe/dashboard"');
    }
    // A NUL is refused as text before it is a file name at all.
    const nul = await get('/assets/%00.js');
    expect(nul.statusCode).toBe(400);
    expect(nul.json().error.code).toBeTypeOf('string');
  });
});

describe('a server without a built dashboard', () => {
  it('says how to build it at /, and keeps client routes a plain 404', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'lethe-no-dashboard-'));
    const location = await SQLITE_BACKEND.create({ migrated: true });
    const bare = await createLethe({ ...location, dashboardDir: empty });
    try {
      const root = await bare.app.inject({ method: 'GET', url: '/', headers: { accept: HTML } });
      expect(root.statusCode).toBe(503);
      expect(root.json().error).toMatchObject({ code: 'UNAVAILABLE' });
      expect(root.json().error.message).toContain('npm run build');
      const page = await bare.app.inject({ method: 'GET', url: '/policies', headers: { accept: HTML } });
      expect(page.statusCode).toBe(404);
      expect((await bare.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await bare.close();
      await location.dispose();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
