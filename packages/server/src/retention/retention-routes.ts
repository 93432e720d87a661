import { Readable } from 'node:stream';
import {
  DueQuery,
  ErasureInput,
  ErasureResult,
  ExpiryPage,
  ExpiryQuery,
  QueryInteger,
  Reappearance,
  SubjectParams,
  SubjectRetention,
  type ExpiryItem,
} from '@lethe/api';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

const NDJSON = 'application/x-ndjson';

export function retentionRoutes(app: TypedApp, { retention }: Services) {
  app.get(
    '/v1/subjects/:subject',
    {
      config: { action: 'subjects:read' },
      schema: {
        operationId: 'getSubject',
        summary: "Why and until when a subject's data is kept",
        tags: ['retention'],
        params: SubjectParams,
        response: { 200: SubjectRetention },
      },
    },
    (request) => retention.subject(principalOf(request), request.params.subject),
  );

  app.get(
    '/v1/expiries',
    {
      config: { action: 'expiries:read' },
      schema: {
        operationId: 'listExpiries',
        summary: 'The expiry feed',
        tags: ['retention'],
        description: `The expiry feed. With \`Accept: ${NDJSON}\` the whole range is streamed, one item per line.`,
        querystring: ExpiryQuery,
        response: { 200: ExpiryPage },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (!request.headers.accept?.includes(NDJSON)) return retention.expiries(principal, request.query);
      const items = await retention.streamExpiries(principal, request.query);
      // A stream bypasses the response serializer; the page schema only describes the JSON form.
      return reply.type(NDJSON).send(Readable.from(toNdjson(items)) as never);
    },
  );

  app.get(
    '/v1/expiries/due',
    {
      config: { action: 'expiries:read' },
      schema: {
        operationId: 'listDueExpiries',
        summary: 'Everything due now, past days included',
        tags: ['retention'],
        description:
          'Everything due now and not yet acknowledged by an erasure, past days included, without held fields.',
        querystring: DueQuery,
        response: { 200: ExpiryPage },
      },
    },
    (request) => retention.due(principalOf(request), request.query),
  );

  app.post(
    '/v1/subjects/:subject/erasures',
    {
      config: { action: 'erasures:write' },
      schema: {
        operationId: 'recordErasure',
        summary: 'Record an erasure',
        tags: ['retention'],
        params: SubjectParams,
        body: ErasureInput,
        response: { 200: ErasureResult },
      },
    },
    (request) => retention.recordErasure(principalOf(request), request.params.subject, request.body),
  );

  app.get(
    '/v1/reappearances',
    {
      config: { action: 'subjects:read' },
      schema: {
        operationId: 'listReappearances',
        summary: 'Data seen again after its erasure',
        tags: ['retention'],
        querystring: Type.Object(
          {
            cursor: Type.Optional(Type.String()),
            limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 10_000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Reappearance), next: Type.Optional(Type.String()) }),
        },
      },
    },
    (request) => retention.reappearances(principalOf(request), request.query.cursor, request.query.limit),
  );
}

/** Lines are batched into chunks of about 64 KiB so a long stream is not a million tiny writes. */
async function* toNdjson(items: AsyncIterable<ExpiryItem>): AsyncGenerator<string> {
  let chunk = '';
  for await (const item of items) {
    chunk += JSON.stringify(item) + '\n';
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
