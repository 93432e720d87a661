import type { Services } from '../services.js';
import type { Metrics } from './metrics.js';
import type { TypedApp } from './typed-app.js';

/**
 * Unauthenticated operational endpoints: liveness, readiness, Prometheus metrics (no subject
 * data in them) and the OpenAPI document.
 */
export function operationRoutes(app: TypedApp, services: Services, metrics: Metrics) {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await services.store.repository.retention.catalogVersion();
      // How far the expiries lag behind acknowledged telemetry (reads drain it: they stay exact).
      return { status: 'ready', usageJournal: services.journal.status() };
    } catch {
      return reply
        .status(503)
        .send({ error: { code: 'UNAVAILABLE', message: 'The store is not reachable.' } });
    }
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render()),
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
