import { ListOf, NameParams, System, SystemInput } from '@lethe/api';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

export function systemRoutes(app: TypedApp, { systems }: Services) {
  app.get(
    '/v1/systems',
    {
      config: { action: 'systems:read' },
      schema: {
        operationId: 'listSystems',
        summary: 'List systems',
        tags: ['data map'],
        response: { 200: ListOf(System) },
      },
    },
    async (request) => ({
      items: await systems.list(principalOf(request)),
    }),
  );

  app.get(
    '/v1/systems/:name',
    {
      config: { action: 'systems:read' },
      schema: {
        operationId: 'getSystem',
        summary: 'Get a system with its datasets and fields',
        tags: ['data map'],
        params: NameParams,
        response: { 200: System },
      },
    },
    (request) => systems.get(principalOf(request), request.params.name),
  );

  app.put(
    '/v1/systems/:name',
    {
      config: { action: 'systems:write' },
      schema: {
        operationId: 'putSystem',
        summary: 'Create or change a system',
        tags: ['data map'],
        params: NameParams,
        body: SystemInput,
        response: { 200: System, 201: System },
      },
    },
    async (request, reply) => {
      const result = await systems.put(principalOf(request), request.params.name, request.body);
      return reply.status(result.created ? 201 : 200).send(result.system);
    },
  );

  app.delete(
    '/v1/systems/:name',
    {
      config: { action: 'systems:write' },
      schema: {
        operationId: 'deleteSystem',
        summary: 'Remove a system',
        tags: ['data map'],
        params: NameParams,
      },
    },
    async (request, reply) => {
      await systems.remove(principalOf(request), request.params.name);
      return reply.status(204).send();
    },
  );
}
