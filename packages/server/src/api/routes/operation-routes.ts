import type { Services } from '../../services/services.js';
import type { TypedApp } from '../typed-app.js';

/** Unauthenticated operational endpoints: liveness, readiness and the OpenAPI document. */
export function operationRoutes(app: TypedApp, services: Services) {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await services.store.repository.catalogVersion();
      return { status: 'ready' };
    } catch {
      return reply
        .status(503)
        .send({ error: { code: 'UNAVAILABLE', message: 'The store is not reachable.' } });
    }
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
