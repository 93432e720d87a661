import { Job, JobListQuery, JobParams, ListOf } from '@lethe/api';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

export function jobRoutes(app: TypedApp, { jobs }: Services) {
  app.get(
    '/v1/jobs',
    {
      config: { action: 'jobs:read' },
      schema: {
        operationId: 'listJobs',
        summary: 'List background jobs',
        tags: ['jobs'],
        description: 'Background jobs (retention recomputes), newest first, optionally by state.',
        querystring: JobListQuery,
        response: { 200: ListOf(Job) },
      },
    },
    async (request) => ({ items: await jobs.list(principalOf(request), request.query) }),
  );

  app.get(
    '/v1/jobs/:id',
    {
      config: { action: 'jobs:read' },
      schema: {
        operationId: 'getJob',
        summary: 'Get a background job',
        tags: ['jobs'],
        description: 'A background job: its state, progress and result.',
        params: JobParams,
        response: { 200: Job },
      },
    },
    (request) => jobs.get(principalOf(request), request.params.id),
  );
}
