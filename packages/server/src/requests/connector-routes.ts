import { Connector, ConnectorInput, ListOf, NameParams } from '@lethe/api';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

/** SQL connectors that rights requests search directly. */
export function connectorRoutes(app: TypedApp, { connectors }: Services) {
  const tags = ['rights requests'];
  const read = { config: { action: 'connectors:read' } } as const;
  const write = { config: { action: 'connectors:write' } } as const;

  app.get(
    '/v1/connectors',
    {
      ...read,
      schema: {
        operationId: 'listConnectors',
        summary: 'List SQL connectors',
        tags,
        response: { 200: ListOf(Connector) },
      },
    },
    async (request) => ({
      items: await connectors.list(principalOf(request)),
    }),
  );
  app.get(
    '/v1/connectors/:name',
    {
      ...read,
      schema: {
        operationId: 'getConnector',
        summary: 'Get a SQL connector',
        tags,
        params: NameParams,
        response: { 200: Connector },
      },
    },
    async (request) => connectors.get(principalOf(request), request.params.name),
  );
  app.put(
    '/v1/connectors/:name',
    {
      ...write,
      schema: {
        operationId: 'putConnector',
        summary: 'Create or change a SQL connector',
        tags,
        params: NameParams,
        body: ConnectorInput,
        response: { 200: Connector, 201: Connector },
      },
    },
    async (request, reply) => {
      const result = await connectors.put(principalOf(request), request.params.name, request.body);
      return reply.status(result.created ? 201 : 200).send(result.value);
    },
  );
  app.delete(
    '/v1/connectors/:name',
    {
      ...write,
      schema: { operationId: 'deleteConnector', summary: 'Remove a SQL connector', tags, params: NameParams },
    },
    async (request, reply) => {
      await connectors.remove(principalOf(request), request.params.name);
      return reply.status(204).send();
    },
  );
}
