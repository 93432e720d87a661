import { ListOf, NameParams, StreamExport, StreamExportInput } from '@lethe/api';
import type { Services } from '../../services.js';
import { principalOf } from '../../http/authenticate.js';
import type { TypedApp } from '../../http/typed-app.js';

/** Exports of privacy streams to files and NATS JetStream, and how far each has got. */
export function streamExportRoutes(app: TypedApp, { streamExports }: Services) {
  const tags = ['privacy streams'];
  const read = { config: { action: 'stream-exports:read' } } as const;
  const write = { config: { action: 'stream-exports:write' } } as const;

  app.get(
    '/v1/stream-exports',
    {
      ...read,
      schema: {
        operationId: 'listStreamExports',
        summary: 'List stream exports',
        tags,
        response: { 200: ListOf(StreamExport) },
      },
    },
    async (request) => ({ items: await streamExports.list(principalOf(request)) }),
  );
  app.get(
    '/v1/stream-exports/:name',
    {
      ...read,
      schema: {
        operationId: 'getStreamExport',
        summary: 'Get a stream export and its status',
        tags,
        description:
          'The export and its status: position, lag, files written, last error, the node running it.',
        params: NameParams,
        response: { 200: StreamExport },
      },
    },
    async (request) => streamExports.get(principalOf(request), request.params.name),
  );
  app.put(
    '/v1/stream-exports/:name',
    {
      ...write,
      schema: {
        operationId: 'putStreamExport',
        summary: 'Create or change a stream export',
        tags,
        description:
          'Creates or changes an export. A changed export goes on from its position with the new settings; ' +
          "file exports are written under the server's export directory, in a folder named after the export.",
        params: NameParams,
        body: StreamExportInput,
        response: { 200: StreamExport, 201: StreamExport },
      },
    },
    async (request, reply) => {
      const result = await streamExports.put(principalOf(request), request.params.name, request.body);
      return reply.status(result.created ? 201 : 200).send(result.value);
    },
  );
  app.delete(
    '/v1/stream-exports/:name',
    {
      ...write,
      schema: {
        operationId: 'deleteStreamExport',
        summary: 'Remove a stream export',
        tags,
        description: 'Stops and removes the export; files already written stay where they are.',
        params: NameParams,
      },
    },
    async (request, reply) => {
      await streamExports.remove(principalOf(request), request.params.name);
      return reply.status(204).send();
    },
  );
}
