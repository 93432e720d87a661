import { ListOf, NameParams, RightsClient, RightsClientInput } from '@lethe/api';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

/** Rights clients: the endpoint of each system that answers access and erasure requests. */
export function rightsClientRoutes(app: TypedApp, { datamap }: Services) {
  const read = { config: { action: 'systems:read' } } as const;
  const write = { config: { action: 'systems:write' } } as const;
  const tags = ['data map'];

  app.get(
    '/v1/clients',
    {
      ...read,
      schema: {
        operationId: 'listRightsClients',
        summary: 'List rights clients',
        tags,
        response: { 200: ListOf(RightsClient) },
      },
    },
    async (request) => ({ items: await datamap.listClients(principalOf(request)) }),
  );
  app.put(
    '/v1/clients/:name',
    {
      ...write,
      schema: {
        operationId: 'putRightsClient',
        summary: 'Register or change a rights client',
        tags,
        params: NameParams,
        body: RightsClientInput,
        response: { 200: RightsClient, 201: RightsClient },
      },
    },
    async (request, reply) => {
      const result = await datamap.putClient(principalOf(request), request.params.name, request.body);
      return reply.status(result.created ? 201 : 200).send(result.value);
    },
  );
  app.delete(
    '/v1/clients/:name',
    {
      ...write,
      schema: {
        operationId: 'deleteRightsClient',
        summary: 'Remove a rights client',
        tags,
        params: NameParams,
      },
    },
    async (request, reply) => {
      await datamap.removeClient(principalOf(request), request.params.name);
      return reply.status(204).send();
    },
  );
}
