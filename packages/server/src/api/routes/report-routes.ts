import { RopaReport } from '@lethe/api';
import { Type } from '@sinclair/typebox';
import { ropaCsv } from '../../domain/ropa.js';
import type { Services } from '../../services/services.js';
import { principalOf } from '../authenticate.js';
import type { TypedApp } from '../typed-app.js';

const CSV = 'text/csv';

export function reportRoutes(app: TypedApp, { reports }: Services) {
  app.get(
    '/v1/reports/ropa',
    {
      config: { action: 'reports:read' },
      schema: {
        tags: ['reports'],
        querystring: Type.Object(
          { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])) },
          { additionalProperties: false },
        ),
        response: { 200: RopaReport },
      },
    },
    async (request, reply) => {
      const report = await reports.ropa(principalOf(request));
      const wantsCsv =
        request.query.format === 'csv' ||
        (request.query.format === undefined && prefersCsv(request.headers.accept));
      if (!wantsCsv) return report;
      return reply
        .type(`${CSV}; charset=utf-8`)
        .header('content-disposition', 'attachment; filename="record-of-processing.csv"')
        .send(ropaCsv(report) as never);
    },
  );
}

// `Accept: text/csv` picks CSV; anything else (a browser, no header) keeps JSON.
function prefersCsv(accept: string | undefined): boolean {
  return accept !== undefined && accept.split(',').some((part) => part.trim().startsWith(CSV));
}
