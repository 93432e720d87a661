import swagger from '@fastify/swagger';
import { openApiOptions } from './openapi.js';
import { packageVersion } from '../lib/package-version.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyPluginCallback } from 'fastify';
import { BODY_LIMIT_BYTES } from '@lethe/api';
import type { Tokens } from '../auth/tokens.js';
import { parseNdjson } from '../lib/ndjson.js';
import type { Services } from '../services.js';
import { authenticate } from './authenticate.js';
import { contentTypePolicy } from './content-types.js';
import { builtDashboardDir, dashboardRoutes } from './dashboard.js';
import { clientErrorHandler } from './client-errors.js';
import { handleError, handleFrameworkError } from './errors.js';
import { isLoggerInstance, RequestLogController, type LoggerSetting } from './logging.js';
import { Metrics } from './metrics.js';
import { requestIdOf, traceIdOf } from './request-id.js';
import { DEFAULT_RATE_LIMIT, eventRateLimit, rateLimit, type RateLimitSettings } from './rate-limit.js';
import { auditPlugin } from '../audit/audit-plugin.js';
import { consentPlugin } from '../consent/consent-plugin.js';
import { datamapPlugin } from '../datamap/datamap-plugin.js';
import { jobsPlugin } from '../jobs/jobs-plugin.js';
import { manifestsPlugin } from '../manifests/manifests-plugin.js';
import { overviewPlugin } from '../overview/overview-plugin.js';
import { requestsPlugin } from '../requests/requests-plugin.js';
import { retentionPlugin } from '../retention/retention-plugin.js';
import { sessionPlugin } from '../session/session-plugin.js';
import { sessionPublicPlugin } from '../session/session-public-plugin.js';
import type { OidcSignIn } from '../session/oidc/oidc-sign-in.js';
import { streamsPlugin } from '../streams/streams-plugin.js';
import { webhooksPlugin } from '../webhooks/webhooks-plugin.js';
import { operationRoutes } from './operation-routes.js';
import { authorizeRoute, requireRouteAction, routeCollector } from './route-action.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, requestDeadline } from './request-timeout.js';
import { answerHeadersHook } from './security-headers.js';
import { textRule } from './text-rule.js';
import { sharedSchemaCompilers } from './shared-schema-compilers.js';
import type { TypedApp } from './typed-app.js';

export interface AppOptions {
  readonly services: Services;
  readonly tokens: Tokens;
  /** Logger options (Fastify makes the logger) or the logger itself (`createLethe` passes its own). */
  readonly logger?: LoggerSetting;
  /** Largest accepted body of `POST /v1/events`, in bytes. */
  readonly eventsBodyLimit?: number;
  /**
   * Requests per principal on `/v1` (default 50/s, burst 200; the telemetry routes count events:
   * 200,000/s, burst 400,000); `false` turns the limits off.
   */
  readonly rateLimit?: RateLimitSettings | false;
  /** The counters `/metrics` shows; given when parts outside the app (NATS ingest) count too. */
  readonly metrics?: Metrics;
  /** The built dashboard served at `/` (default `packages/dashboard/dist`, found as a package). */
  readonly dashboardDir?: string;
  /** How long a client may take to send a whole request (default 60 s); see `requestDeadline`. */
  readonly requestTimeoutMs?: number;
  /** OpenTelemetry's request spans (`observability/tracing.ts`), registered before every route. */
  readonly tracing?: FastifyPluginCallback;
  /** The dashboard's sign-in through the company's OIDC provider, when configured. */
  readonly oidcSignIn?: OidcSignIn;
}

export const DEFAULT_EVENTS_BODY_LIMIT = 16 * 1024 * 1024;

export async function buildApp(options: AppOptions): Promise<TypedApp> {
  const app = Fastify({
    ...(isLoggerInstance(options.logger)
      ? { loggerInstance: options.logger }
      : { logger: options.logger ?? false }),
    logController: new RequestLogController(),
    bodyLimit: BODY_LIMIT_BYTES,
    ...requestDeadline(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
    // Answers Fastify and Node would otherwise write in their own shape: a malformed URL (before
    // routing), a request refused on its connection (not HTTP, headers too large, too slow).
    frameworkErrors: handleFrameworkError,
    clientErrorHandler,
    // A request that reaches a closing server is served: the store closes only after the last
    // answer. Fastify's alternative is a bare 503 outside the envelope.
    return503OnClosing: false,
    // The route schemas bound each parameter (256 characters at most, 512 UTF-16 units); the
    // router's own limit (default 100) sits above them so that it never cuts a valid id short.
    routerOptions: { maxParamLength: 1024 },
    // Request ids travel in every log line and every error body: the caller's `x-request-id`
    // when it is safe to echo (http/request-id.ts), else a new UUID.
    genReqId: requestIdOf,
    requestIdHeader: false,
    // A caller's W3C `traceparent` puts its trace id on the request's log lines.
    childLoggerFactory(logger, bindings, childOptions, rawRequest) {
      const traceId = traceIdOf(rawRequest);
      return logger.child(traceId ? { ...bindings, traceId } : bindings, childOptions);
    },
    // Compiled route schemas are shared by every app of the process (http/shared-schema-compilers.ts).
    schemaController: { compilersFactory: sharedSchemaCompilers },
    ajv: {
      // API.md: unknown properties are rejected, not silently dropped.
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // First: it instruments the routes and hooks registered after it.
  if (options.tracing) await app.register(options.tracing);
  const collected = routeCollector();
  app.addHook('onRoute', collected.onRoute);
  app.addHook('onRoute', contentTypePolicy);
  app.decorate('routeTable', collected.routes);
  app.setErrorHandler(handleError);
  // Every string of a query, path or body is well-formed text without NUL (http/text-rule.ts).
  app.addHook('preHandler', textRule);
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseNdjson(body as string));
  });
  // The inbound requests table (rights request import).
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  // Request ids travel in every answer's headers too, with the security headers.
  app.addHook('onSend', answerHeadersHook());
  const metrics = options.metrics ?? new Metrics();
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.observe(
      // The route pattern, not the URL: subject ids must not become label values.
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, openApiOptions(packageVersion()));

  // Unknown paths are the API's JSON 404, except a browser's page navigation: the dashboard's shell.
  app.setNotFoundHandler(await dashboardRoutes(app, options.dashboardDir ?? builtDashboardDir()));
  operationRoutes(app, options.services, metrics);
  const { services, tokens } = options;
  const limit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  // The JWKS and the sign-in exchange take no token: outside the authenticated `/v1` scope.
  await app.register(sessionPublicPlugin, {
    services,
    tokens,
    rateLimit: limit,
    oidcSignIn: options.oidcSignIn,
  });
  await app.register(async (v1) => {
    const api = v1 as unknown as TypedApp;
    api.addHook('onRoute', requireRouteAction);
    api.addHook('onRequest', authenticate(tokens));
    if (limit) api.addHook('onRequest', rateLimit(limit)).addHook('preValidation', eventRateLimit(limit));
    api.addHook('onRequest', authorizeRoute);
    // Each feature in a child scope: it runs behind the hooks above. The order is the order of the
    // paths in the OpenAPI document.
    const eventsBodyLimit = options.eventsBodyLimit ?? DEFAULT_EVENTS_BODY_LIMIT;
    await api.register(retentionPlugin, { services, metrics, eventsBodyLimit });
    await api.register(datamapPlugin, { services });
    await api.register(manifestsPlugin, { services });
    await api.register(requestsPlugin, { services });
    await api.register(consentPlugin, { services });
    await api.register(auditPlugin, { services });
    await api.register(sessionPlugin, { services });
    await api.register(streamsPlugin, { services, eventsBodyLimit });
    await api.register(overviewPlugin, { services });
    await api.register(jobsPlugin, { services });
    await api.register(webhooksPlugin, { services });
  });
  return app;
}
