import { StreamEventBatch, StreamIngestResult, StreamPage, StreamReadQuery } from '@lethe/api';
import { Type, type Static } from 'typebox';
import { AppError } from '../lib/app-error.js';
import type { Services } from '../services.js';
import type { StreamView } from './stream-log.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

export function streamRoutes(app: TypedApp, { streams }: Services, bodyLimit: number) {
  app.post(
    '/v1/streams/events',
    {
      config: { action: 'streams:publish', telemetry: true, textPerItem: true },
      bodyLimit,
      schema: {
        operationId: 'publishStreamEvents',
        summary: 'Publish privacy-stream events',
        tags: ['streams'],
        description:
          'Privacy-stream events: a JSON array, `{"events": [...]}`, or one event per line ' +
          '(application/x-ndjson). Each event is validated against its contract on its own; refused ' +
          'events come back with every reason, the others are encrypted and stored. 200 means every ' +
          'accepted event is durable, even when every event was refused (as POST /v1/events).',
        body: {
          content: {
            'application/json': { schema: StreamEventBatch },
            'application/x-ndjson': { schema: Type.Array(Type.Unknown()) },
          },
        },
        response: { 200: StreamIngestResult },
      },
    },
    async (request) => {
      const body = request.body as unknown[] | { events: unknown[] };
      return streams.ingest(principalOf(request), Array.isArray(body) ? body : body.events);
    },
  );

  app.get(
    '/v1/streams/events',
    {
      config: { action: 'streams:read' },
      schema: {
        operationId: 'readStream',
        summary: 'Read a privacy stream',
        tags: ['streams'],
        description:
          'A page of the base stream (personal values encrypted), or with `purposes` of the derived ' +
          'stream for them: events whose consent does not cover every purpose are left out, the ' +
          'attributes of those purposes are decrypted, the others withheld (`withheld`). Read on ' +
          'with `after=lastSeq`. `Accept: application/x-ndjson` answers one event per line, the ' +
          'position to read on after in the `x-lethe-last-seq` header.',
        querystring: StreamReadQuery,
        response: {
          200: {
            content: {
              'application/json': { schema: StreamPage },
              'application/x-ndjson': { schema: Type.String() },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { after = 0, limit = 100, purposes, withheld } = request.query;
      const view = streamView(purposes, withheld);
      const page = await streams.readAs(principalOf(request), view, after, limit);
      if (!request.headers.accept?.includes('application/x-ndjson')) {
        return reply.type('application/json').send(page as Static<typeof StreamPage>);
      }
      reply.header('x-lethe-last-seq', String(page.lastSeq));
      reply.type('application/x-ndjson');
      return reply.send(page.events.map((event) => `${JSON.stringify(event)}\n`).join(''));
    },
  );
}

function streamView(purposes: string | undefined, withheld: StreamView['withheld']): StreamView {
  if (purposes === undefined) {
    if (withheld !== undefined) {
      throw new AppError('VALIDATION_FAILED', 'withheld applies to a derived stream: name its purposes.');
    }
    return {};
  }
  const list = purposes
    .split(',')
    .map((purpose) => purpose.trim())
    .filter((purpose) => purpose !== '');
  if (list.length === 0) throw new AppError('INVALID_PURPOSE', 'purposes names no purpose key.');
  return { purposes: list, ...(withheld !== undefined ? { withheld } : {}) };
}
