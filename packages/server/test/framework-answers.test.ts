import type { AddressInfo } from 'node:net';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_CONTENT_SECURITY_POLICY,
  BASE_SECURITY_HEADERS,
  securityHeadersFor,
} from '../src/http/security-headers.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { exchange, type RawResponse } from './support/raw-http.js';

/**
 * Answers Fastify and Node make on their own, before or around our routes (issue 16, finding 12):
 * each is the error envelope with a stable code, a request id, and the security headers.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The headers of an answer that cannot know its path (a socket-level error): the API's, strictest. */
const API_HEADERS = { ...BASE_SECURITY_HEADERS, 'content-security-policy': API_CONTENT_SECURITY_POLICY };

function expectEnvelope(
  response: RawResponse,
  expected: { status: number; code: string; headers: Readonly<Record<string, string>> },
) {
  expect(response.status).toBe(expected.status);
  const requestId = response.headers['x-request-id'];
  expect(requestId).toMatch(UUID);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers).toMatchObject(expected.headers);
  const body = JSON.parse(response.body) as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatchObject({ code: expected.code, message: expect.any(String), requestId });
  expect(
    Object.keys(body.error).every((key) => ['code', 'message', 'requestId', 'details'].includes(key)),
  ).toBe(true);
}

async function openLethe() {
  const location = await SQLITE_BACKEND.create({ migrated: true });
  const lethe = await createLethe({ ...location, rateLimit: false });
  return {
    lethe,
    async dispose() {
      try {
        await lethe.close();
      } finally {
        await location.dispose();
      }
    },
  };
}

describe('answers Fastify makes itself', () => {
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  let port: number;
  let auth: Record<string, string>;

  beforeAll(async () => {
    ({ lethe, dispose } = await openLethe());
    await lethe.app.listen({ port: 0, host: '127.0.0.1' });
    port = (lethe.app.server.address() as AddressInfo).port;
    const { token } = await lethe.tokens.mint({ subject: 'alice', role: 'admin', ttlSeconds: 600 });
    auth = { authorization: `Bearer ${token}` };
  });
  afterAll(() => dispose());

  const json = { 'content-type': 'application/json' };
  const policy = JSON.stringify({ purpose: 'essential.account', retention: 'P2Y', legalBasis: 'contract' });

  // Each case names its request (the token is added), and the status and code it must get.
  const cases: { name: string; request: InjectOptions; status: number; code: string }[] = [
    {
      name: 'a malformed percent-escape',
      request: { url: '/v1/subjects/%zz' },
      status: 400,
      code: 'INVALID_URL',
    },
    {
      name: 'an overlong UTF-8 escape',
      request: { url: '/v1/subjects/%c0%af' },
      status: 400,
      code: 'INVALID_URL',
    },
    { name: 'a malformed escape outside /v1', request: { url: '/%zz' }, status: 400, code: 'INVALID_URL' },
    {
      name: 'a subject id of 200 characters (over the router default of 100)',
      request: { url: `/v1/subjects/${'a'.repeat(200)}` },
      status: 404,
      code: 'SUBJECT_NOT_FOUND',
    },
    {
      name: 'a subject id over the schema limit of 256',
      request: { url: `/v1/subjects/${'a'.repeat(300)}` },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a path parameter past the router limit',
      request: { url: `/v1/subjects/${'a'.repeat(2000)}` },
      status: 414,
      code: 'PATH_PARAM_TOO_LONG',
    },
    { name: 'an unknown route', request: { url: '/v1/nope' }, status: 404, code: 'ROUTE_NOT_FOUND' },
    {
      name: 'a method the path does not take',
      request: { method: 'PATCH', url: '/v1/policies' },
      status: 404,
      code: 'ROUTE_NOT_FOUND',
    },
    {
      name: 'a body that is not JSON',
      request: { method: 'PUT', url: '/v1/policies/p', headers: json, payload: '{"purpose":' },
      status: 400,
      code: 'INVALID_JSON',
    },
    {
      name: 'an empty body typed as JSON',
      request: { method: 'PUT', url: '/v1/policies/p', headers: json, payload: '' },
      status: 400,
      code: 'INVALID_JSON',
    },
    {
      name: 'a __proto__ key',
      request: { method: 'PUT', url: '/v1/policies/p', headers: json, payload: '{"__proto__":{"x":1}}' },
      status: 400,
      code: 'INVALID_JSON',
    },
    {
      name: 'a body over the limit',
      request: { method: 'PUT', url: '/v1/policies/p', headers: json, payload: `"${'x'.repeat(1_100_000)}"` },
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'a content type no parser takes',
      request: {
        method: 'PUT',
        url: '/v1/policies/p',
        headers: { 'content-type': 'application/xml' },
        payload: '<p/>',
      },
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'a Content-Length that does not match the body',
      request: {
        method: 'PUT',
        url: '/v1/policies/p',
        headers: { ...json, 'content-length': '5' },
        payload: policy,
      },
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
  ];

  it.each(cases)('$name: $status $code', async ({ request, status, code }) => {
    const response = await lethe.app.inject({ ...request, headers: { ...auth, ...request.headers } });
    const headers = Object.fromEntries(
      Object.entries(response.headers).map(([name, value]) => [name, String(value)]),
    );
    expectEnvelope(
      { status: response.statusCode, headers, body: response.body },
      { status, code, headers: securityHeadersFor(request.url as string) },
    );
  });

  // What Node's HTTP parser refuses never reaches Fastify's router: the socket gets the answer.
  const socketCases = [
    {
      name: 'a request line that is not HTTP',
      request: 'HELLO THERE\r\n\r\n',
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
    {
      name: 'a header name with a space',
      request: 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
    {
      name: 'both Content-Length and Transfer-Encoding (request smuggling)',
      request:
        'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
    {
      name: 'headers over 16 KiB',
      request: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ${'y'.repeat(20_000)}\r\n\r\n`,
      status: 431,
      code: 'HEADERS_TOO_LARGE',
    },
  ];

  it.each(socketCases)('$name: $status $code', async ({ request, status, code }) => {
    const responses = await exchange(port, request);
    expect(responses).toHaveLength(1);
    expectEnvelope(responses[0] as RawResponse, {
      status,
      code,
      headers: { ...API_HEADERS, 'cache-control': 'no-store' },
    });
  });
});

describe('a request that arrives while the server closes', () => {
  it('is served in full, with our headers and Connection: close, not given a bare 503', async () => {
    const location = await SQLITE_BACKEND.create({ migrated: true });
    const lethe = await createLethe({ ...location, rateLimit: false });
    // Hold the close between Fastify's "closing" mark and the listening socket's close: the window
    // in which Fastify answered new requests with a 503 of its own.
    let closing!: () => void;
    let release!: () => void;
    const closeStarted = new Promise<void>((resolve) => (closing = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    lethe.app.addHook('preClose', async () => {
      closing();
      await released;
    });
    await lethe.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (lethe.app.server.address() as AddressInfo).port;
    let closed: Promise<void> | undefined;
    try {
      closed = lethe.close();
      await closeStarted;
      const responses = await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(responses.map((response) => response.status)).toEqual([200]);
      const served = responses[0] as RawResponse;
      expect(JSON.parse(served.body)).toEqual({ status: 'ok' });
      expect(served.headers).toMatchObject({ ...securityHeadersFor('/healthz'), connection: 'close' });
      expect(served.headers['x-request-id']).toMatch(UUID);
    } finally {
      release();
      await (closed ?? lethe.close());
      await location.dispose();
    }
  });
});
