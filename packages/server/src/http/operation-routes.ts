import { Type } from 'typebox';
import type { Services } from '../services.js';
import type { Metrics } from './metrics.js';
import type { TypedApp } from './typed-app.js';

/**
 * Unauthenticated operational endpoints: liveness, readiness, Prometheus metrics (no subject
 * data in them) and the OpenAPI document.
 */
export function operationRoutes(app: TypedApp, services: Services, metrics: Metrics) {
  app.get(
    '/healthz',
    {
      schema: {
        ...operation('getHealth', 'Liveness: the process answers'),
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        ...operation('getReadiness', 'Readiness: the store answers and the fold does not fail'),
        response: {
          200: Type.Object({ status: Type.Literal('ready'), usageJournal: Type.Unknown() }),
          503: Type.Object({
            error: Type.Object({ code: Type.Literal('UNAVAILABLE'), message: Type.String() }),
            usageJournal: Type.Optional(Type.Unknown()),
          }),
        },
      },
    },
    async (_request, reply) => {
      try {
        await services.store.repository.retention.catalogVersion();
      } catch {
        return reply
          .status(503)
          .send({ error: { code: 'UNAVAILABLE' as const, message: 'The store is not reachable.' } });
      }
      // How far the expiries lag behind acknowledged telemetry (reads drain it: they stay exact).
      const usageJournal = services.journal.status();
      if (usageJournal.foldError === undefined) return { status: 'ready' as const, usageJournal };
      // Reads drain the journal through the fold: while it fails, they cannot be served.
      return reply.status(503).send({
        error: {
          code: 'UNAVAILABLE',
          message: `The usage journal's fold is failing: ${usageJournal.foldError}`,
        },
        usageJournal,
      });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        ...operation('getMetrics', 'Prometheus metrics'),
        response: {
          200: { description: 'The exposition format', content: { 'text/plain': { schema: Type.String() } } },
        },
      },
    },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** An operation that takes no token: documented with an empty `security`. */
function operation(operationId: string, summary: string) {
  return { operationId, summary, tags: ['operations'], security: [] };
}
