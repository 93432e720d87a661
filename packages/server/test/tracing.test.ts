import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tracingConfigured } from '../src/observability/tracing.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN_ID = 'b7ad6b7169203331';
const REQUEST_ID = 'trace-test-request-1';
const OTEL_VARIABLES = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL'] as const;

/** The OTLP/JSON shape of what the receiver is sent (only the parts the test reads). */
interface ExportRequest {
  resourceSpans: {
    resource: { attributes: Attribute[] };
    scopeSpans: { spans: Span[] }[];
  }[];
}
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Attribute[];
}
interface Attribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string };
}

const SPAN_KIND_SERVER = 2;

/** Whether a CommonJS package has been loaded in this process. */
function loaded(name: string): boolean {
  const cache = createRequire(import.meta.url).cache;
  return Object.keys(cache).some((path) => path.includes(`/node_modules/${name}/`));
}

function attribute(attributes: Attribute[], key: string): string | number | undefined {
  const value = attributes.find((entry) => entry.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
}

describe('OpenTelemetry traces', () => {
  let receiver: Server;
  const exports: { path: string; contentType: string | undefined; body: ExportRequest }[] = [];

  beforeAll(async () => {
    // A real OTLP/HTTP receiver on loopback: it decodes what the exporter posts (OTLP/JSON).
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        exports.push({
          path: request.url ?? '',
          contentType: request.headers['content-type'],
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest,
        });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const name of OTEL_VARIABLES) delete process.env[name];
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('is off, and not even loaded, unless the OTEL_* variables ask for it', async () => {
    expect(tracingConfigured({})).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(true);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(true);
    expect(tracingConfigured({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingConfigured({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' })).toBe(
      false,
    );
    expect(tracingConfigured({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' })).toBe(
      false,
    );

    const location = await SQLITE_BACKEND.create({ migrated: true });
    const lethe = await createLethe({ ...location });
    try {
      const response = await lethe.app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
      });
      expect(response.statusCode).toBe(200);
      expect(loaded('@opentelemetry/sdk-node')).toBe(false);
      expect(loaded('@fastify/otel')).toBe(false);
    } finally {
      await lethe.close();
      await location.dispose();
    }
    expect(exports).toEqual([]);
  });

  it("exports a server span per request in the caller's trace, with the request id", async () => {
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] =
      `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    process.env['OTEL_EXPORTER_OTLP_PROTOCOL'] = 'http/json';
    const location = await SQLITE_BACKEND.create({ migrated: true });
    let lethe: Lethe | undefined = await createLethe({ ...location, rateLimit: false });
    try {
      expect(loaded('@opentelemetry/sdk-node')).toBe(true);
      const url = await lethe.app.listen({ port: 0, host: '127.0.0.1' });
      const token = (await lethe.tokens.mint({ subject: 'tracer', role: 'admin', ttlSeconds: 600 })).token;
      const traced = await fetch(`${url}/v1/policies/user-account-access`, {
        headers: {
          authorization: `Bearer ${token}`,
          traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
          'x-request-id': REQUEST_ID,
        },
      });
      expect(traced.status).toBe(404);
      const untraced = await fetch(`${url}/healthz`, {
        headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
      });
      expect(untraced.status).toBe(200);
      const fresh = await fetch(`${url}/v1/policies`, { headers: { authorization: `Bearer ${token}` } });
      expect(fresh.status).toBe(200);
      // Closing flushes the spans not exported yet.
      await lethe.close();
      lethe = undefined;
    } finally {
      await lethe?.close();
      await location.dispose();
    }

    expect(exports.length).toBeGreaterThan(0);
    for (const sent of exports) {
      expect(sent.path).toBe('/v1/traces');
      expect(sent.contentType).toBe('application/json');
    }
    const resources = exports.flatMap((sent) => sent.body.resourceSpans);
    for (const resource of resources)
      expect(attribute(resource.resource.attributes, 'service.name')).toBe('lethe');
    const spans = resources.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));

    const server = spans.filter((span) => span.kind === SPAN_KIND_SERVER);
    expect(server.map((span) => attribute(span.attributes, 'http.route')).sort()).toEqual([
      '/v1/policies',
      '/v1/policies/:name',
    ]);
    const request = server.find((span) => attribute(span.attributes, 'http.route') === '/v1/policies/:name')!;
    expect(request).toMatchObject({ traceId: TRACE_ID, parentSpanId: PARENT_SPAN_ID });
    expect(attribute(request.attributes, 'lethe.request_id')).toBe(REQUEST_ID);
    // The route pattern, never the requested path with its ids.
    expect(attribute(request.attributes, 'url.path')).toBe('/v1/policies/:name');
    expect(attribute(request.attributes, 'http.request.method')).toBe('GET');
    expect(attribute(request.attributes, 'http.response.status_code')).toBe(404);
    // Its handler's span is its child, in the same trace.
    expect(spans).toContainEqual(
      expect.objectContaining({ traceId: TRACE_ID, parentSpanId: request.spanId }),
    );

    // Without a traceparent: a trace of its own, still with its (generated) request id.
    const other = server.find((span) => attribute(span.attributes, 'http.route') === '/v1/policies')!;
    expect(other.traceId).not.toBe(TRACE_ID);
    expect(other.parentSpanId ?? '').toBe('');
    expect(attribute(other.attributes, 'lethe.request_id')).toEqual(expect.any(String));
  });
});
