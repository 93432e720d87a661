import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';

/** Bad input answers a 4xx in the error envelope, never a 5xx (issue 16, findings 4, 6, 12). */

let lethe: Lethe;
let dispose: () => Promise<void>;
let token: string;

beforeAll(async () => {
  const location = await SQLITE_BACKEND.create({ migrated: true });
  lethe = await createLethe({ ...location, rateLimit: false });
  await lethe.app.ready();
  token = (await lethe.tokens.mint({ subject: 'alice', role: 'admin', ttlSeconds: 600 })).token;
  dispose = async () => {
    try {
      await lethe.close();
    } finally {
      await location.dispose();
    }
  };
});
afterAll(() => dispose());

/** The routes that take CSV (the document shows their body as a string). */
const CSV_ROUTES = new Set(['/v1/requests/import', '/v1/consent/import']);

/** Every POST/PUT route the OpenAPI document gives a body, with the content types it takes. */
function bodyRoutes(): { method: string; url: string; types: string[] }[] {
  const document = lethe.app.swagger() as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
  };
  const routes = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (operation.requestBody === undefined) continue;
      const url = path.replace(/\{[^}]+\}/g, 'x-1');
      routes.push({ method: method.toUpperCase(), url, types: Object.keys(operation.requestBody.content) });
    }
  }
  return routes;
}

function send(method: string, url: string, contentType: string | undefined, payload: string) {
  return lethe.app.inject({
    method: method as 'POST',
    url,
    payload,
    headers: {
      authorization: `Bearer ${token}`,
      ...(contentType === undefined ? {} : { 'content-type': contentType }),
    },
  });
}

describe('one content-type policy for every body route', () => {
  it('finds the body routes', () => {
    expect(bodyRoutes().length).toBeGreaterThan(20);
  });

  for (const contentType of ['text/plain', 'text/csv', 'application/xml', undefined]) {
    for (const payload of ['', 'hello', '{"events":[]}']) {
      it(`never answers 5xx, and refuses in the envelope, to ${contentType ?? 'no content type'} with ${JSON.stringify(payload)}`, async () => {
        for (const route of bodyRoutes()) {
          const accepted =
            contentType !== undefined &&
            (route.types.includes(contentType) || (contentType === 'text/csv' && CSV_ROUTES.has(route.url)));
          if (accepted) continue;
          const response = await send(route.method, route.url, contentType, payload);
          const where = `${route.method} ${route.url}: ${response.body}`;
          expect(response.statusCode, where).toBeLessThan(500);
          // A bare request (no type, no body) may mean `{}` where a route says so (`POST /v1/keys/rotate`).
          if (response.statusCode >= 300) expect(response.json().error?.code, where).toBeTypeOf('string');
          if (contentType !== undefined && payload !== '') {
            expect(response.statusCode, where).toBe(415);
            expect(response.json().error.code, where).toBe('UNSUPPORTED_MEDIA_TYPE');
          }
        }
      });
    }
  }

  it('refuses text/plain and a missing type on the event routes as the issue found them', async () => {
    for (const url of ['/v1/events', '/v1/streams/events']) {
      const plain = await send('POST', url, 'text/plain', '{"events":[]}');
      expect(plain.statusCode).toBe(415);
      expect(plain.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const csv = await send('POST', url, 'text/csv', 'a,b\n1,2\n');
      expect(csv.statusCode).toBe(415);
      const none = await send('POST', url, undefined, '');
      expect(none.statusCode).toBe(400);
      expect(none.json().error.requestId).toBeTypeOf('string');
    }
  });

  it('still takes JSON and NDJSON where a route does', async () => {
    const json = await send('POST', '/v1/events', 'application/json', '{"events":[]}');
    expect(json.statusCode).toBe(200);
    const ndjson = await send('POST', '/v1/events', 'application/x-ndjson', '');
    expect(ndjson.statusCode).toBeLessThan(500);
  });
});

describe('one numeric query-parameter schema', () => {
  const urls = [
    '/v1/audit',
    '/v1/reappearances',
    '/v1/consent/violations',
    '/v1/requests',
    '/v1/expiries',
    '/v1/streams/events',
  ];
  for (const url of urls) {
    for (const value of ['Infinity', '-Infinity', '1e309', 'NaN', '1.5', '99999999999999999999']) {
      it(`answers 400 VALIDATION_FAILED to ${url}?limit=${value}`, async () => {
        const response = await lethe.app.inject({
          method: 'GET',
          url: `${url}?limit=${value}`,
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.statusCode, response.body).toBe(400);
        expect(response.json().error.code).toBe('VALIDATION_FAILED');
      });
    }
  }
  for (const url of ['/v1/audit', '/v1/streams/events']) {
    for (const value of ['Infinity', '1e309']) {
      it(`answers 400 VALIDATION_FAILED to ${url}?after=${value}`, async () => {
        const response = await lethe.app.inject({
          method: 'GET',
          url: `${url}?after=${value}`,
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.statusCode, response.body).toBe(400);
        expect(response.json().error.code).toBe('VALIDATION_FAILED');
      });
    }
  }
});
