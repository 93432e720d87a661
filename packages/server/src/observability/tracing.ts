import type { FastifyPluginCallback } from 'fastify';
import { pathOf } from '../http/api-paths.js';

/** Paths not traced: probes and scrapes would bury the requests worth seeing. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Whether OpenTelemetry tracing is asked for, by the standard variables: an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or an explicit
 * `OTEL_TRACES_EXPORTER` (`otlp`, `console`); never with `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none`. Off by default: nothing is loaded or sent.
 */
export function tracingConfigured(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (exporters.includes('none')) return false;
  return (
    exporters.length > 0 ||
    Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'])
  );
}

/** Tracing once started: the Fastify plugin that makes the spans, and the exporter's flush. */
export interface Tracing {
  /** Registered on the app before any route (`buildApp` does). */
  readonly plugin: FastifyPluginCallback;
  /** Ends tracing and exports the spans not sent yet. */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry's Node SDK for traces, configured by the standard `OTEL_*` variables
 * (endpoint, protocol, headers, sampler, propagators, `OTEL_SERVICE_NAME`, default `lethe`), and
 * `@fastify/otel` for one server span per request: it continues the caller's W3C `traceparent`
 * and carries the request id as `lethe.request_id`. The SDK's metrics and logs stay off
 * (`/metrics` and pino have them). The SDK is imported here, lazily: with tracing off it is never
 * loaded. Its tracer provider is the process's global one: one tracing Lethe at a time per process.
 */
export async function startTracing(env: Readonly<Record<string, string | undefined>>): Promise<Tracing> {
  const [api, { NodeSDK }, { FastifyOtelInstrumentation }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-node'),
    import('@fastify/otel'),
  ]);
  const instrumentation = new FastifyOtelInstrumentation({
    // One span per request and one for its handler; the hooks' spans would triple the count.
    instrumentHooks: false,
    ignorePaths: ({ url }) => UNTRACED_PATHS.has(pathOf(url)),
    requestHook: (span, request) => {
      span.setAttribute('lethe.request_id', String(request.id));
      // Spans leave for an outside collector: the path as routed (`/v1/subjects/:subject`), never
      // the URL, whose path and query carry subject ids.
      span.setAttribute('url.path', request.routeOptions.url ?? 'unmatched');
    },
  });
  const sdk = new NodeSDK({
    ...(env['OTEL_SERVICE_NAME'] ? {} : { serviceName: 'lethe' }),
    instrumentations: [instrumentation],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return {
    plugin: instrumentation.plugin(),
    async shutdown() {
      instrumentation.disable();
      await sdk.shutdown();
      // Unregistered, so that a Lethe started later in this process may trace again.
      api.trace.disable();
      api.propagation.disable();
      api.context.disable();
    },
  };
}
