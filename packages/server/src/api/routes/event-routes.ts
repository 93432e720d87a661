import { EventBatch, IngestResult } from '@lethe/api';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/services.js';
import { principalOf } from '../authenticate.js';
import type { TypedApp } from '../typed-app.js';

export function eventRoutes(app: TypedApp, { telemetry }: Services, bodyLimit: number) {
  app.post(
    '/v1/events',
    {
      bodyLimit,
      schema: {
        tags: ['telemetry'],
        description:
          'Usage events as `{"events": [...]}` (application/json) or one event per line (application/x-ndjson). ' +
          'Each event is validated on its own; 200 means every accepted event is durable.',
        body: {
          content: {
            'application/json': { schema: EventBatch },
            'application/x-ndjson': { schema: Type.Array(Type.Unknown()) },
          },
        },
        response: { 200: IngestResult },
      },
    },
    (request) => {
      const body = request.body as unknown[] | { events: unknown[] };
      return telemetry.ingest(principalOf(request), Array.isArray(body) ? body : body.events);
    },
  );
}
