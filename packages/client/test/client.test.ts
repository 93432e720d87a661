import { afterEach, describe, expect, it } from 'vitest';
import { LetheApiError, LetheClient, type ExpiryItem } from '@lethe/client';
import {
  delay,
  errorBody,
  sendJson,
  startServer,
  unusedUrl,
  waitFor,
  type Handler,
  type LoopbackServer,
} from './loopback-server.js';

let server: LoopbackServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(handler: Handler, timeoutMs?: number) {
  server = await startServer(handler);
  return { server, client: new LetheClient({ url: server.url, token: 'token-1', timeoutMs }) };
}

/** Resolves with the rejection, failing the test if the promise resolves instead. */
async function failure(promise: Promise<unknown>): Promise<LetheApiError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(LetheApiError);
  return error as LetheApiError;
}

const expiry = (n: number): ExpiryItem => ({
  subject: `zoë-${n}`,
  field: 'accounts.email',
  expiresAt: '2024-03-01T00:00:00Z',
  status: 'due',
  policy: 'marketing-email',
  system: 'crm',
});

describe('LetheClient errors', () => {
  it("throws the server's code, status, message and request id for a non-2xx answer", async () => {
    const { client } = await setup((_request, response) =>
      sendJson(response, 404, errorBody('POLICY_NOT_FOUND', 'No such policy.', 'req-7')),
    );
    const error = await failure(client.getPolicy('marketing-email'));
    expect(error).toMatchObject({
      name: 'LetheApiError',
      status: 404,
      code: 'POLICY_NOT_FOUND',
      message: 'No such policy.',
      requestId: 'req-7',
      retryable: false,
    });
  });

  it('keeps details, and reads Retry-After', async () => {
    const { client } = await setup((_request, response) =>
      sendJson(
        response,
        503,
        { error: { code: 'UNAVAILABLE', message: 'Not ready.', details: { phase: 'migrating' } } },
        { 'retry-after': '3' },
      ),
    );
    const error = await failure(client.listPolicies());
    expect(error).toMatchObject({ status: 503, code: 'UNAVAILABLE', retryable: true, retryAfterMs: 3000 });
    expect(error.details).toEqual({ phase: 'migrating' });
  });

  it('uses UNEXPECTED_RESPONSE for an answer that is not a Lethe error body, or not JSON', async () => {
    const { server, client } = await setup((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<h1>Bad gateway</h1>');
    });
    expect(await failure(client.listSystems())).toMatchObject({ status: 502, code: 'UNEXPECTED_RESPONSE' });

    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"items": [');
    });
    expect(await failure(client.listSystems())).toMatchObject({ status: 200, code: 'UNEXPECTED_RESPONSE' });
  });

  it('maps a refused connection to NETWORK_ERROR with status 0', async () => {
    const client = new LetheClient({ url: await unusedUrl(), token: 't' });
    const error = await failure(client.listPolicies());
    expect(error).toMatchObject({ status: 0, code: 'NETWORK_ERROR', retryable: true });
    expect(error.message).toMatch(/ECONNREFUSED|fetch failed/);
  });

  it('maps a connection the server drops to NETWORK_ERROR', async () => {
    const { client } = await setup((_request, _response, raw) => {
      raw.socket.destroy();
    });
    expect(await failure(client.getSubject('user-1'))).toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
  });

  it('times out with NETWORK_ERROR when the server stays silent, and honours the caller’s signal', async () => {
    const { client } = await setup(() => undefined, 50);
    const start = performance.now();
    const error = await failure(client.getPolicy('slow'));
    expect(error).toMatchObject({ status: 0, code: 'NETWORK_ERROR', message: 'The request timed out.' });
    expect(performance.now() - start).toBeLessThan(1000);

    const controller = new AbortController();
    const pending = client.getPolicy('slow', { signal: controller.signal });
    controller.abort();
    expect(await failure(pending)).toMatchObject({
      code: 'NETWORK_ERROR',
      message: 'The request was aborted.',
    });
  });
});

describe('LetheClient requests', () => {
  it('asks the token provider on every request', async () => {
    server = await startServer((_request, response) => sendJson(response, 200, { items: [] }));
    let issued = 0;
    const client = new LetheClient({ url: server.url, token: async () => `token-${++issued}` });
    await client.listPolicies();
    await client.listSystems();
    expect(server.requests.map((request) => request.headers.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-2',
    ]);
  });

  it('encodes path segments and builds the expiry query string', async () => {
    const { server, client } = await setup((_request, response) => sendJson(response, 200, { items: [] }));
    await client.getSubject('a/b c?#');
    await client.policyVersions('marketing.email');
    await client.expiries({
      from: '2024-03-01',
      to: '2024-03-07',
      system: 'crm',
      level: 'field',
      limit: 100,
    });
    expect(server.requests.map((request) => request.url)).toEqual([
      '/v1/subjects/a%2Fb%20c%3F%23',
      '/v1/policies/marketing.email/versions',
      '/v1/expiries?from=2024-03-01&to=2024-03-07&system=crm&level=field&limit=100',
    ]);
    // A dot segment would be resolved away by the URL parser and reach another route.
    await expect(client.getSubject('..')).rejects.toThrow(RangeError);
    await expect(client.getSubject('')).rejects.toThrow(RangeError);
    expect(server.requests).toHaveLength(3);
  });

  it('sends JSON bodies with the right method and keeps a base path', async () => {
    server = await startServer((request, response) =>
      sendJson(
        response,
        200,
        request.url.endsWith('/events') ? { accepted: 1, duplicates: 0, rejected: [] } : {},
      ),
    );
    const client = new LetheClient({ url: `${server.url}/lethe/`, token: 't' });
    const event = {
      id: 'e1',
      subject: 's',
      system: 'crm',
      policy: 'p',
      fields: ['a.b'],
      at: '2024-01-01T00:00:00Z',
    };
    expect(await client.publishEvents([event])).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    await client.previewRetention('p', 'P1Y');
    await client.recordErasure('s', { system: 'crm', fields: ['a.b'] });
    await client.retirePolicy('p', 'replaced by p2');
    await client.putSystem('crm', { team: 'growth' });

    expect(
      server.requests.map((request) => [
        request.method,
        request.url,
        request.headers['content-type'],
        request.body,
      ]),
    ).toEqual([
      ['POST', '/lethe/v1/events', 'application/json', JSON.stringify({ events: [event] })],
      ['POST', '/lethe/v1/policies/p/preview', 'application/json', '{"retention":"P1Y"}'],
      ['POST', '/lethe/v1/subjects/s/erasures', 'application/json', '{"system":"crm","fields":["a.b"]}'],
      ['DELETE', '/lethe/v1/policies/p?reason=replaced+by+p2', undefined, ''],
      ['PUT', '/lethe/v1/systems/crm', 'application/json', '{"team":"growth"}'],
    ]);
  });
});

describe('LetheClient.streamExpiries', () => {
  it('parses lines split across chunks, inside JSON and inside a multi-byte character', async () => {
    const text = `${JSON.stringify(expiry(1))}\r\n\n${JSON.stringify(expiry(2))}\n${JSON.stringify(expiry(3))}`;
    const bytes = new TextEncoder().encode(text);
    const umlaut = bytes.indexOf(0xc3); // first byte of "ë" in the first line
    const newline = bytes.indexOf(0x0a); // "\r" and "\n" end up in different chunks
    const cuts = [5, umlaut + 1, newline, newline + 1, bytes.length - 3, bytes.length];
    let requested: Request | undefined;
    const fakeFetch: typeof fetch = async (input, init) => {
      requested = new Request(input, init);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          cuts.reduce((from, to) => {
            controller.enqueue(bytes.slice(from, to));
            return to;
          }, 0);
          controller.close();
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'application/x-ndjson' } });
    };
    const client = new LetheClient({ url: 'http://lethe.test', token: 't', fetch: fakeFetch });

    const items: ExpiryItem[] = [];
    for await (const item of client.streamExpiries({ day: '2024-03-01' })) items.push(item);
    expect(items).toEqual([expiry(1), expiry(2), expiry(3)]);
    expect(requested?.headers.get('accept')).toBe('application/x-ndjson');
    expect(requested?.url).toBe('http://lethe.test/v1/expiries?day=2024-03-01');
  });

  it('yields items while the server is still sending, over a real connection', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const { server, client } = await setup(async (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const second = JSON.stringify(expiry(2));
      response.write(`${JSON.stringify(expiry(1))}\n${second.slice(0, 10)}`);
      await released;
      response.write(`${second.slice(10)}\n`);
      await delay(5);
      response.end(`${JSON.stringify(expiry(3))}\n`);
    });

    const stream = client.streamExpiries({ day: '2024-03-01', system: 'crm' });
    const timeout = delay(2000).then(() => 'buffered: the first item never arrived alone');
    const first = await Promise.race([stream.next(), timeout]);
    expect(first).toEqual({ done: false, value: expiry(1) });
    release();
    const rest: ExpiryItem[] = [];
    for await (const item of stream) rest.push(item);
    expect(rest).toEqual([expiry(2), expiry(3)]);
    expect(server.requests[0]).toMatchObject({
      url: '/v1/expiries?day=2024-03-01&system=crm',
      headers: expect.objectContaining({ accept: 'application/x-ndjson', authorization: 'Bearer token-1' }),
    });
  });

  it('cancels the response when the consumer stops early', async () => {
    let closed = false;
    const { client } = await setup((_request, response) => {
      response.on('close', () => (closed = true));
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.write(`${JSON.stringify(expiry(1))}\n${JSON.stringify(expiry(2))}\n`);
    });
    for await (const item of client.streamExpiries({ day: '2024-03-01' })) {
      expect(item).toEqual(expiry(1));
      break;
    }
    await waitFor(() => closed);
  });

  it('throws LetheApiError for an error answer, a broken stream, or a bad line', async () => {
    const { server, client } = await setup((_request, response) =>
      sendJson(response, 400, errorBody('INVALID_DAY', 'A day is not a valid YYYY-MM-DD date.')),
    );
    const drain = async () => {
      for await (const item of client.streamExpiries({ day: '2024-13-01' })) void item;
    };
    expect(await failure(drain())).toMatchObject({ status: 400, code: 'INVALID_DAY' });

    server.handle((_request, response, raw) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.write(`${JSON.stringify(expiry(1))}\n{"subj`);
      setTimeout(() => raw.socket.destroy(), 10);
    });
    expect(await failure(drain())).toMatchObject({ status: 0, code: 'NETWORK_ERROR' });

    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.end('not json\n');
    });
    expect(await failure(drain())).toMatchObject({ status: 200, code: 'UNEXPECTED_RESPONSE' });
  });
});
