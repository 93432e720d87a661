import { Overview } from '@lethe/api';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

export function overviewRoutes(app: TypedApp, { overview }: Services) {
  app.get(
    '/v1/overview',
    {
      config: { action: 'overview:read' },
      schema: {
        operationId: 'getOverview',
        summary: 'Dashboard overview',
        tags: ['overview'],
        description:
          'Counts and the subject expiries per day for the next 90 days (the dashboard’s overview).',
        response: { 200: Overview },
      },
    },
    (request) => overview.overview(principalOf(request)),
  );
}
