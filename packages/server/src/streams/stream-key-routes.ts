import { ListOf, ShredResult, StreamKey, StreamKeyParams, SubjectParams } from '@lethe/api';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

export function streamKeyRoutes(app: TypedApp, { fieldKeys }: Services) {
  app.get(
    '/v1/subjects/:subject/stream-keys',
    {
      config: { action: 'stream-keys:read' },
      schema: {
        operationId: 'listStreamKeys',
        summary: "A subject's privacy-stream keys",
        tags: ['streams'],
        description:
          "The subject's privacy-stream keys, live and shredded: ids and periods, never key material.",
        params: SubjectParams,
        response: { 200: ListOf(StreamKey) },
      },
    },
    async (request) => ({
      items: await fieldKeys.keysOfSubject(principalOf(request), request.params.subject),
    }),
  );

  app.delete(
    '/v1/subjects/:subject/stream-keys',
    {
      config: { action: 'stream-keys:shred' },
      schema: {
        operationId: 'shredStreamKeys',
        summary: "Shred a subject's privacy-stream keys",
        tags: ['streams'],
        description:
          'Shreds every privacy-stream key of the subject: their stored and exported ciphertexts can no longer be read, and their periods are never keyed again.',
        params: SubjectParams,
        response: { 200: ShredResult },
      },
    },
    async (request) => ({
      shredded: await fieldKeys.shredSubject(
        principalOf(request),
        request.params.subject,
        'shredded through the API',
      ),
    }),
  );

  app.delete(
    '/v1/stream-keys/:id',
    {
      config: { action: 'stream-keys:shred' },
      schema: {
        operationId: 'shredStreamKey',
        summary: 'Shred one privacy-stream key',
        tags: ['streams'],
        description: 'Shreds one privacy-stream key; `shredded: 0` when it is gone already.',
        params: StreamKeyParams,
        response: { 200: ShredResult },
      },
    },
    async (request) => ({
      shredded: await fieldKeys.shredKey(principalOf(request), request.params.id, 'shredded through the API'),
    }),
  );
}
