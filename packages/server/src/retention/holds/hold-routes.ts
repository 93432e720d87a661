import { Hold, HoldInput, HoldList, NameParams } from '@lethe/api';
import { principalOf } from '../../http/authenticate.js';
import type { TypedApp } from '../../http/typed-app.js';
import type { Services } from '../../services.js';

/** Legal holds: `GET /v1/holds`, `GET|PUT|DELETE /v1/holds/{name}` (docs/retention.md). */
export function holdRoutes(app: TypedApp, { holds }: Services) {
  app.get(
    '/v1/holds',
    {
      config: { action: 'holds:read' },
      schema: {
        operationId: 'listHolds',
        summary: 'List legal holds',
        tags: ['retention'],
        response: { 200: HoldList },
      },
    },
    async (request) => ({ items: await holds.list(principalOf(request)) }),
  );

  app.get(
    '/v1/holds/:name',
    {
      config: { action: 'holds:read' },
      schema: {
        operationId: 'getHold',
        summary: 'Get a legal hold',
        tags: ['retention'],
        params: NameParams,
        response: { 200: Hold },
      },
    },
    (request) => holds.get(principalOf(request), request.params.name),
  );

  app.put(
    '/v1/holds/:name',
    {
      config: { action: 'holds:write' },
      schema: {
        operationId: 'putHold',
        summary: 'Place or change a legal hold',
        tags: ['retention'],
        params: NameParams,
        body: HoldInput,
        response: { 200: Hold, 201: Hold },
      },
    },
    async (request, reply) => {
      const { hold, created } = await holds.put(principalOf(request), request.params.name, request.body);
      return reply.status(created ? 201 : 200).send(hold);
    },
  );

  app.delete(
    '/v1/holds/:name',
    {
      config: { action: 'holds:write' },
      schema: {
        operationId: 'releaseHold',
        summary: 'Release a legal hold',
        tags: ['retention'],
        params: NameParams,
      },
    },
    async (request, reply) => {
      await holds.release(principalOf(request), request.params.name);
      return reply.status(204).send();
    },
  );
}
