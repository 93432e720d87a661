import { RopaReport } from '@lethe/api';
import { ropaCsv } from '../../domain/ropa.js';
import type { Services } from '../../services/services.js';
import { principalOf } from '../authenticate.js';
import { FormatQuery, sendCsv, wantsCsv } from '../csv-reply.js';
import type { TypedApp } from '../typed-app.js';

export function reportRoutes(app: TypedApp, { reports }: Services) {
  app.get(
    '/v1/reports/ropa',
    {
      config: { action: 'reports:read' },
      schema: { tags: ['reports'], querystring: FormatQuery, response: { 200: RopaReport } },
    },
    async (request, reply) => {
      const report = await reports.ropa(principalOf(request));
      if (!wantsCsv(request.query.format, request.headers.accept)) return report;
      return sendCsv(reply, 'record-of-processing.csv', ropaCsv(report));
    },
  );
}
