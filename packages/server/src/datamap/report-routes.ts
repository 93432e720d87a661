import { RopaReport } from '@lethe/api';
import { ropaCsv } from './ropa.js';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import { FormatQuery, sendCsv, wantsCsv } from '../http/csv-reply.js';
import type { TypedApp } from '../http/typed-app.js';

export function reportRoutes(app: TypedApp, { reports }: Services) {
  app.get(
    '/v1/reports/ropa',
    {
      config: { action: 'reports:read' },
      schema: {
        operationId: 'getRopa',
        summary: 'Record of processing activities (GDPR Art. 30)',
        tags: ['reports'],
        querystring: FormatQuery,
        response: { 200: RopaReport },
      },
    },
    async (request, reply) => {
      const report = await reports.ropa(principalOf(request));
      if (!wantsCsv(request.query.format, request.headers.accept)) return report;
      return sendCsv(reply, 'record-of-processing.csv', ropaCsv(report));
    },
  );
}
