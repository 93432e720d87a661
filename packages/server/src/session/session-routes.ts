import { SessionView } from '@lethe/api';
import { mayUse, PERMISSIONS, type Action } from '../auth/permissions.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

export function sessionRoutes(app: TypedApp) {
  app.get(
    '/v1/session',
    {
      config: { action: 'session:read' },
      schema: {
        operationId: 'getSession',
        summary: 'The caller and its permissions',
        tags: ['auth'],
        description:
          'The caller as the server sees its token, and the permissions it may use: those its role ' +
          'holds, less those a category-limited token is refused on every route.',
        response: { 200: SessionView },
      },
    },
    (request): SessionView => {
      const principal = principalOf(request);
      return {
        subject: principal.id,
        role: principal.role,
        ...(principal.issuer ? { issuer: principal.issuer } : {}),
        ...(principal.system ? { system: principal.system } : {}),
        ...(principal.categories ? { categories: [...principal.categories] } : {}),
        ...(principal.grants ? { grants: [...principal.grants] } : {}),
        actions: (Object.keys(PERMISSIONS) as Action[]).filter((action) => mayUse(principal, action)),
      };
    },
  );
}
