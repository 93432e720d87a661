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
    } catch {
      return reply
        .status(503)
        .send({ error: { code: 'UNAVAILABLE', message: 'The store is not reachable.' } });
    }
    // How far the expiries lag behind acknowledged telemetry (reads drain it: they stay exact).
    const usageJournal = services.journal.status();
    if (usageJournal.foldError === undefined) return { status: 'ready', usageJournal };
    // Reads drain the journal through the fold: while it fails, they cannot be served.
    return reply.status(503).send({
      error: {
        code: 'UNAVAILABLE',
        message: `The usage journal's fold is failing: ${usageJournal.foldError}`,
      },
      usageJournal,
    });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.render()),
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
