import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { SignInExchange } from '../session/sign-in-codes.js';
import type { Tokens } from '../auth/tokens.js';
import { parseNdjson } from '../lib/ndjson.js';
import type { Services } from '../services.js';
import { authenticate } from './authenticate.js';
import { builtDashboardDir, dashboardRoutes } from './dashboard.js';
import { handleError } from './errors.js';
import { isLoggerInstance, type LoggerSetting } from './logging.js';
import { Metrics } from './metrics.js';
import { DEFAULT_RATE_LIMIT, rateLimit, rateLimitByAddress, type RateLimitSettings } from './rate-limit.js';
import { auditRoutes } from '../audit/audit-routes.js';
import { datamapRoutes } from '../datamap/datamap-routes.js';
import { discoveryRoutes } from '../datamap/discovery/discovery-routes.js';
import { graphRoutes } from '../datamap/graph-routes.js';
import { manifestRoutes } from '../manifests/manifest-routes.js';
import { connectorRoutes } from '../requests/connector-routes.js';
import { contractRoutes } from '../streams/contract-routes.js';
import { consentRoutes } from '../consent/consent-routes.js';
import { requestRoutes } from '../requests/request-routes.js';
import { reportRoutes } from '../datamap/report-routes.js';
import { jwksRoute, keyRoutes } from '../session/key-routes.js';
import { operationRoutes } from './operation-routes.js';
import { overviewRoutes } from '../overview/overview-routes.js';
import { sessionRoutes } from '../session/session-routes.js';
import { signInRoutes } from '../session/sign-in-routes.js';
import { eventRoutes } from '../retention/event-routes.js';
import { policyRoutes } from '../retention/policy-routes.js';
import { retentionRoutes } from '../retention/retention-routes.js';
import { streamKeyRoutes } from '../streams/stream-key-routes.js';
import { streamRoutes } from '../streams/stream-routes.js';
import { streamExportRoutes } from '../streams/exports/stream-export-routes.js';
import { systemRoutes } from '../retention/system-routes.js';
import { authorizeRoute, requireRouteAction, routeCollector } from './route-action.js';
import { securityHeaders } from './security-headers.js';
import type { TypedApp } from './typed-app.js';

export interface AppOptions {
  readonly services: Services;
  readonly tokens: Tokens;
  /** Logger options (Fastify makes the logger) or the logger itself (`createLethe` passes its own). */
  readonly logger?: LoggerSetting;
  /** Largest accepted body of `POST /v1/events`, in bytes. */
  readonly eventsBodyLimit?: number;
  /** Requests per principal on `/v1` (default 50/s, burst 200); `false` turns the limit off. */
  readonly rateLimit?: RateLimitSettings | false;
  /** The counters `/metrics` shows; given when parts outside the app (NATS ingest) count too. */
  readonly metrics?: Metrics;
  /** The built dashboard served at `/` (default `packages/dashboard/dist`, found as a package). */
  readonly dashboardDir?: string;
}

export const DEFAULT_EVENTS_BODY_LIMIT = 16 * 1024 * 1024;

export async function buildApp(options: AppOptions): Promise<TypedApp> {
  const app = Fastify({
    ...(isLoggerInstance(options.logger)
      ? { loggerInstance: options.logger }
      : { logger: options.logger ?? false }),
    bodyLimit: 1024 * 1024,
    // Request ids travel in every log line and every error body.
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: false,
    ajv: {
      // API.md: unknown properties are rejected, not silently dropped.
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const collected = routeCollector();
  app.addHook('onRoute', collected.onRoute);
  app.decorate('routeTable', collected.routes);
  app.setErrorHandler(handleError);
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseNdjson(body as string));
  });
  // The inbound requests table (rights request import).
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onSend', securityHeaders());
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

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lethe API',
        version: '1',
        description: 'Privacy control plane: policies, telemetry, expiries.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });

  // Unknown paths are the API's JSON 404, except a browser's page navigation: the dashboard's shell.
  app.setNotFoundHandler(await dashboardRoutes(app, options.dashboardDir ?? builtDashboardDir()));
  operationRoutes(app, options.services, metrics);
  jwksRoute(app, options.services);
  const limit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  // The one `/v1` route without a token (its code is the credential), limited per client address.
  await app.register(async (v1Public) => {
    const api = v1Public as unknown as TypedApp;
    if (limit) api.addHook('onRequest', rateLimitByAddress(limit));
    signInRoutes(
      api,
      new SignInExchange(options.services.store, options.tokens, { now: options.tokens.keys.now }),
    );
  });
  await app.register(async (v1) => {
    const api = v1 as unknown as TypedApp;
    api.addHook('onRoute', requireRouteAction);
    api.addHook('onRequest', authenticate(options.tokens));
    if (limit) api.addHook('onRequest', rateLimit(limit));
    api.addHook('onRequest', authorizeRoute);
    policyRoutes(api, options.services);
    systemRoutes(api, options.services);
    datamapRoutes(api, options.services);
    discoveryRoutes(api, options.services);
    graphRoutes(api, options.services);
    manifestRoutes(api, options.services);
    reportRoutes(api, options.services);
    requestRoutes(api, options.services);
    connectorRoutes(api, options.services);
    eventRoutes(api, options.services, metrics, options.eventsBodyLimit ?? DEFAULT_EVENTS_BODY_LIMIT);
    retentionRoutes(api, options.services);
    consentRoutes(api, options.services);
    auditRoutes(api, options.services);
    keyRoutes(api, options.services);
    contractRoutes(api, options.services);
    streamRoutes(api, options.services, options.eventsBodyLimit ?? DEFAULT_EVENTS_BODY_LIMIT);
    streamKeyRoutes(api, options.services);
    streamExportRoutes(api, options.services);
    overviewRoutes(api, options.services);
    sessionRoutes(api);
  });
  return app;
}
