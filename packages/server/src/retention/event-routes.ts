import { EventBatch, IngestResult, UsageEvent } from '@lethe/api';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { Metrics } from '../http/metrics.js';
import type { TypedApp } from '../http/typed-app.js';

export function eventRoutes(app: TypedApp, { telemetry }: Services, metrics: Metrics, bodyLimit: number) {
  app.post(
    '/v1/events',
    {
      config: { action: 'events:publish', telemetry: true, textPerItem: true, documentedItems: UsageEvent },
      bodyLimit,
      schema: {
        operationId: 'publishEvents',
        summary: 'Publish usage events',
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
    async (request) => {
      const body = request.body as unknown[] | { events: unknown[] };
      const result = await telemetry.ingest(principalOf(request), Array.isArray(body) ? body : body.events);
      metrics.eventsAccepted.inc({}, result.accepted);
      metrics.eventsDuplicate.inc({}, result.duplicates);
      for (const rejection of result.rejected) metrics.eventsRejected.inc({ code: rejection.code });
      return result;
    },
  );
}
