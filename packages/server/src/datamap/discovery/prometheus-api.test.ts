import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../lib/app-error.js';
import { discoveryNames } from './discovery-names.js';
import { queryPrometheus } from './prometheus-api.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const servers: { close(): Promise<void> }[] = [];

/** A real HTTP server on 127.0.0.1 that plays Prometheus; records the requests it got. */
async function serve(handler: Handler): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((request, response) => {
    requests.push(request);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function json(status: number, body: unknown): Handler {
  return (_request, response) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function vector(...metrics: Record<string, string>[]) {
  return {
    status: 'success',
    data: {
      resultType: 'vector',
      result: metrics.map((metric) => ({ metric, value: [1_700_000_000.123, '1'] })),
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the query to fail');
}

const names = discoveryNames();
const job = { job: 'services', instance: '10.0.0.1:9100' };

describe('queryPrometheus', () => {
  it('maps the instant query result to deduplicated observations', async () => {
    const prometheus = await serve(
      json(
        200,
        vector(
          {
            __name__: 'transmit',
            ...job,
            team: 'growth',
            service: 'newsletter',
            to_service: 'mailer',
            data_type: 'email',
          },
          // The same fact from a second replica.
          {
            __name__: 'transmit',
            ...job,
            instance: '10.0.0.2:9100',
            team: 'growth',
            service: 'newsletter',
            to_service: 'mailer',
            data_type: 'email',
          },
          { __name__: 'store_total', ...job, team: 'growth', service: 'crm', data_type: 'name' },
          { __name__: 'client', ...job, team: 'growth', address: 'https://crm.example', protocol: 'https' },
          // Missing its data_type: not an observation.
          { __name__: 'store', ...job, team: 'growth', service: 'crm' },
        ),
      ),
    );
    const observations = await queryPrometheus(prometheus.url, names);
    expect(observations).toEqual([
      {
        kind: 'transmit',
        team: 'growth',
        system: 'newsletter',
        target: 'mailer',
        dataType: 'email',
        protocol: '',
      },
      { kind: 'store', team: 'growth', system: 'crm', target: '', dataType: 'name', protocol: '' },
      {
        kind: 'client',
        team: 'growth',
        system: '',
        target: 'https://crm.example',
        dataType: '',
        protocol: 'https',
      },
    ]);
    expect(prometheus.requests).toHaveLength(1);
    const request = new URL(prometheus.requests[0]?.url ?? '', prometheus.url);
    expect(prometheus.requests[0]?.method).toBe('GET');
    expect(request.pathname).toBe('/api/v1/query');
    expect(request.searchParams.get('query')).toBe(
      '{__name__=~"transmit|transmit_total|store|store_total|client|client_total"}',
    );
    expect(prometheus.requests[0]?.headers.accept).toBe('application/json');
  });

  it('queries configured names', async () => {
    const prometheus = await serve(
      json(200, vector({ __name__: 'privacy_store', svc: 'crm', data_type: 'name', team: 't' })),
    );
    const custom = discoveryNames({ prefix: 'privacy_', labels: { service: 'svc' } });
    expect(await queryPrometheus(prometheus.url, custom)).toEqual([
      { kind: 'store', team: 't', system: 'crm', target: '', dataType: 'name', protocol: '' },
    ]);
    const query = new URL(prometheus.requests[0]?.url ?? '', prometheus.url).searchParams.get('query');
    expect(query).toContain('privacy_transmit|privacy_transmit_total');
  });

  it('returns nothing for an empty result', async () => {
    const prometheus = await serve(json(200, vector()));
    expect(await queryPrometheus(prometheus.url, names)).toEqual([]);
  });

  it.each(['/prometheus', '/prometheus/', '/prometheus//'])(
    'keeps the path prefix of a base URL ending in %s',
    async (suffix) => {
      const prometheus = await serve(json(200, vector()));
      await queryPrometheus(`${prometheus.url}${suffix}`, names);
      expect(new URL(prometheus.requests[0]?.url ?? '', prometheus.url).pathname).toBe(
        '/prometheus/api/v1/query',
      );
    },
  );

  it('handles a base URL with a trailing slash and no prefix', async () => {
    const prometheus = await serve(json(200, vector()));
    await queryPrometheus(`${prometheus.url}/`, names);
    expect(prometheus.requests[0]?.url?.startsWith('/api/v1/query?query=')).toBe(true);
  });

  it('sends credentials in the URL as Basic auth and keeps them out of messages', async () => {
    const prometheus = await serve(json(500, { status: 'error', errorType: 'internal', error: 'boom' }));
    const base = prometheus.url.replace('http://', 'http://reader:s%3Acret@');
    const error = await failure(queryPrometheus(base, names));
    expect(prometheus.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('reader:s:cret').toString('base64')}`,
    );
    expect(error.message).not.toContain('cret');
    expect(error.message).toContain(prometheus.url);
  });

  it('fails with the error Prometheus reports', async () => {
    const prometheus = await serve(
      json(400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query"' }),
    );
    const error = await failure(queryPrometheus(prometheus.url, names));
    expect(error.code).toBe('DISCOVERY_FAILED');
    expect(error.status).toBe(502);
    expect(error.message).toContain(`${prometheus.url}/api/v1/query?query=`);
    expect(error.message).toContain('HTTP 400, bad_data: invalid parameter "query"');
  });

  it('fails on status "error" even with HTTP 200', async () => {
    const prometheus = await serve(
      json(200, { status: 'error', errorType: 'timeout', error: 'query timed out' }),
    );
    const error = await failure(queryPrometheus(prometheus.url, names));
    expect(error.code).toBe('DISCOVERY_FAILED');
    expect(error.message).toContain('timeout: query timed out');
  });

  it('fails on HTTP 500 with a body that is not JSON', async () => {
    const prometheus = await serve((_request, response) =>
      response.writeHead(500, { 'content-type': 'text/plain' }).end('upstream\nexploded'),
    );
    const error = await failure(queryPrometheus(prometheus.url, names));
    expect(error.code).toBe('DISCOVERY_FAILED');
    expect(error.message).toMatch(/Prometheus answered HTTP 500: upstream exploded\.$/);
  });

  it('fails on a 200 answer that is not JSON', async () => {
    const prometheus = await serve((_request, response) =>
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'),
    );
    const error = await failure(queryPrometheus(prometheus.url, names));
    expect(error.code).toBe('DISCOVERY_FAILED');
    expect(error.message).toContain('the answer is not JSON: <html>login</html>');
  });

  it.each<[string, unknown]>([
    ['a matrix', { status: 'success', data: { resultType: 'matrix', result: [] } }],
    ['no data', { status: 'success' }],
    [
      'a non-string label value',
      { status: 'success', data: { resultType: 'vector', result: [{ metric: { a: 1 } }] } },
    ],
    ['a series without labels', { status: 'success', data: { resultType: 'vector', result: [null] } }],
    ['a bare array', []],
  ])('fails on JSON that is not an instant vector: %s', async (_what, body) => {
    const prometheus = await serve(json(200, body));
    const error = await failure(queryPrometheus(prometheus.url, names));
    expect(error.code).toBe('DISCOVERY_FAILED');
    expect(error.message).toContain('not a Prometheus instant vector result');
  });

  it('fails when Prometheus does not answer in time', async () => {
    const prometheus = await serve(() => undefined);
    const started = performance.now();
    const error = await failure(queryPrometheus(prometheus.url, names, { timeoutMs: 200 }));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error.code).toBe('DISCOVERY_FAILED');
    expect(error.message).toContain('no complete answer within 200 ms');
  });

  it('fails when the body stalls after the headers', async () => {
    const prometheus = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"status":"success",');
    });
    const error = await failure(queryPrometheus(prometheus.url, names, { timeoutMs: 200 }));
    expect(error.message).toContain('no complete answer within 200 ms');
  });

  it('fails on an answer larger than maxBytes, declared or streamed', async () => {
    const big = JSON.stringify(
      vector(...Array.from({ length: 200 }, (_, n) => ({ __name__: 'x', n: `${n}` }))),
    );
    const declared = await serve((_request, response) =>
      response
        .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) })
        .end(big),
    );
    const declaredError = await failure(queryPrometheus(declared.url, names, { maxBytes: 1_000 }));
    expect(declaredError.code).toBe('DISCOVERY_FAILED');
    expect(declaredError.message).toMatch(/more than the limit of 1000/);

    const streamed = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }); // chunked, no length
      response.write(big.slice(0, 600));
      response.end(big.slice(600));
    });
    const streamedError = await failure(queryPrometheus(streamed.url, names, { maxBytes: 1_000 }));
    expect(streamedError.message).toContain('larger than the limit of 1000 bytes');
    expect(await queryPrometheus(streamed.url, names, { maxBytes: big.length })).toEqual([]);
  });

  it('fails when nothing listens', async () => {
    const prometheus = await serve(() => undefined);
    await Promise.all(servers.splice(0).map((server) => server.close()));
    const error = await failure(queryPrometheus(prometheus.url, names));
    expect(error.code).toBe('DISCOVERY_FAILED');
    expect(error.message).toContain(prometheus.url);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('rejects a base URL that is not http(s) as a configuration error', async () => {
    expect((await failure(queryPrometheus('not a url', names))).code).toBe('DISCOVERY_CONFIG_INVALID');
    expect((await failure(queryPrometheus('ftp://host/', names))).code).toBe('DISCOVERY_CONFIG_INVALID');
  });

  it('uses the given fetch', async () => {
    const seen: string[] = [];
    const fetchSpy: typeof fetch = async (input, init) => {
      seen.push(String(input));
      return globalThis.fetch(input, init);
    };
    const prometheus = await serve(json(200, vector()));
    await queryPrometheus(prometheus.url, names, { fetch: fetchSpy });
    expect(seen).toHaveLength(1);
  });
});
