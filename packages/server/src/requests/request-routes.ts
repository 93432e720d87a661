import {
  ImportResult,
  ListOf,
  ManualDoneInput,
  OverviewRow,
  ReasonInput,
  ReportRow,
  RequestIdParams,
  RequestInput,
  RequestList,
  RequestListQuery,
  RequestPlan,
  RequestTask,
  RightsRequest,
  SuppressionHit,
  TaskParams,
  TICKET_BODY_LIMIT_BYTES,
  TicketDoneInput,
  VerifyInput,
} from '@lethe/api';
import { Type } from 'typebox';
import { renderDsarPackageHtml } from './dsar-package.js';
import { overviewRowsCsv, reportRowsCsv } from './request-report-csv.js';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import { FormatQuery, sendCsv, wantsCsv } from '../http/csv-reply.js';
import type { TypedApp } from '../http/typed-app.js';

const tags = ['rights requests'];
const manage = { config: { action: 'requests:manage' } } as const;
const read = { config: { action: 'requests:read' } } as const;

/** Rights requests: intake, the steps people take, tickets, reports and the DSAR package. */
export function requestRoutes(app: TypedApp, services: Services) {
  // In this order: it is the order of the paths in the OpenAPI document.
  requestIntakeRoutes(app, services);
  requestStepRoutes(app, services);
  requestTaskRoutes(app, services);
  requestReportRoutes(app, services);
}

/** Requests coming in and read back, and the data of erased people coming back (suppression hits). */
function requestIntakeRoutes(app: TypedApp, { requests, suppressions }: Services) {
  app.get(
    '/v1/suppressions/hits',
    {
      ...read,
      schema: {
        operationId: 'listSuppressionHits',
        summary: 'Telemetry about erased people',
        tags,
        description:
          'Telemetry about people a completed erasure removed: their data came back from that system.',
        response: { 200: ListOf(SuppressionHit) },
      },
    },
    async (request) => ({ items: await suppressions.hits(principalOf(request)) }),
  );
  app.post(
    '/v1/requests',
    {
      config: { action: 'requests:create' },
      schema: {
        operationId: 'createRequest',
        summary: 'File a rights request',
        tags,
        body: RequestInput,
        response: { 201: RightsRequest },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await requests.create(principalOf(request), request.body)),
  );
  app.post(
    '/v1/requests/import',
    {
      config: { action: 'requests:create', contentTypes: ['text/csv'], textPerItem: true },
      schema: {
        operationId: 'importRequests',
        summary: 'Import rights requests from CSV',
        tags,
        description:
          'The inbound requests table as CSV (text/csv): one request per row; bad rows are reported by line.',
        body: Type.String(),
        response: { 200: ImportResult },
      },
    },
    async (request) => requests.importCsv(principalOf(request), request.body),
  );
  app.get(
    '/v1/requests',
    {
      ...read,
      schema: {
        operationId: 'listRequests',
        summary: 'List rights requests',
        tags,
        querystring: RequestListQuery,
        response: { 200: RequestList },
      },
    },
    async (request) => requests.list(principalOf(request), request.query),
  );
  app.get(
    '/v1/requests/:id',
    {
      ...read,
      schema: {
        operationId: 'getRequest',
        summary: 'Get a rights request',
        tags,
        params: RequestIdParams,
        response: { 200: RightsRequest },
      },
    },
    async (request) => requests.get(principalOf(request), request.params.id),
  );
  app.get(
    '/v1/requests/:id/plan',
    {
      ...read,
      schema: {
        operationId: 'getRequestPlan',
        summary: 'The systems a request will reach',
        tags,
        params: RequestIdParams,
        response: { 200: RequestPlan },
      },
    },
    async (request) => requests.plan(principalOf(request), request.params.id),
  );
}

/** The steps people take on a request as a whole. */
function requestStepRoutes(app: TypedApp, { requests }: Services) {
  const step = { tags, params: RequestIdParams, response: { 200: RightsRequest } };
  app.post(
    '/v1/requests/:id/verify-identity',
    {
      ...manage,
      schema: {
        operationId: 'verifyIdentity',
        summary: "Record the requester's identity check",
        ...step,
        body: VerifyInput,
      },
    },
    async (request) => requests.verifyIdentity(principalOf(request), request.params.id, request.body),
  );
  app.post(
    '/v1/requests/:id/approve',
    { ...manage, schema: { operationId: 'approveRequest', summary: 'Approve a rights request', ...step } },
    async (request) => requests.approve(principalOf(request), request.params.id),
  );
  app.post(
    '/v1/requests/:id/deny',
    {
      ...manage,
      schema: { operationId: 'denyRequest', summary: 'Deny a rights request', ...step, body: ReasonInput },
    },
    async (request) => requests.deny(principalOf(request), request.params.id, request.body.reason),
  );
  app.post(
    '/v1/requests/:id/cancel',
    {
      ...manage,
      schema: {
        operationId: 'cancelRequest',
        summary: 'Cancel a rights request',
        ...step,
        body: ReasonInput,
      },
    },
    async (request) => requests.cancel(principalOf(request), request.params.id, request.body.reason),
  );
  app.post(
    '/v1/requests/:id/extend',
    {
      ...manage,
      schema: {
        operationId: 'extendRequest',
        summary: "Extend a request's deadline",
        ...step,
        body: ReasonInput,
      },
    },
    async (request) => requests.extend(principalOf(request), request.params.id, request.body.reason),
  );
  app.post(
    '/v1/requests/:id/confirm-receipt',
    { ...manage, schema: { operationId: 'confirmReceipt', summary: "Confirm a request's receipt", ...step } },
    async (request) => requests.confirmReceipt(principalOf(request), request.params.id),
  );
  app.post(
    '/v1/requests/:id/delivered',
    {
      ...manage,
      schema: { operationId: 'markDelivered', summary: 'Record that the answer was delivered', ...step },
    },
    async (request) => requests.markDelivered(principalOf(request), request.params.id),
  );
}

/** The steps on one task of a request, and the tickets: tasks waiting for a person. */
function requestTaskRoutes(app: TypedApp, { requests }: Services) {
  app.post(
    '/v1/requests/:id/tasks/:task/retry',
    {
      ...manage,
      schema: {
        operationId: 'retryTask',
        summary: 'Retry a task',
        tags,
        params: TaskParams,
        response: { 200: RightsRequest },
      },
    },
    async (request) => requests.retryTask(principalOf(request), request.params.id, request.params.task),
  );
  app.post(
    '/v1/requests/:id/tasks/:task/approve',
    {
      ...manage,
      schema: {
        operationId: 'approveErasure',
        summary: "Approve a task's erasure plan",
        tags,
        description: 'Approve the erasure plan a task waits with (`waiting_approval`): its rows per table.',
        params: TaskParams,
        response: { 200: RightsRequest },
      },
    },
    async (request) => requests.approveErasure(principalOf(request), request.params.id, request.params.task),
  );
  app.post(
    '/v1/requests/:id/tasks/:task/skip',
    {
      ...manage,
      schema: {
        operationId: 'skipTask',
        summary: 'Skip a task with a reason',
        tags,
        description:
          'Skip a task with a reason: the request completes without that system, and its status reason and DSAR package say so.',
        params: TaskParams,
        body: ReasonInput,
        response: { 200: RightsRequest },
      },
    },
    async (request) =>
      requests.skipTask(principalOf(request), request.params.id, request.params.task, request.body.reason),
  );
  app.post(
    '/v1/requests/:id/tasks/:task/mark-done',
    {
      ...manage,
      bodyLimit: TICKET_BODY_LIMIT_BYTES,
      schema: {
        operationId: 'markTaskDone',
        summary: 'Mark a task done by hand',
        tags,
        description:
          'Mark a task done by hand (handled outside Lethe) with a required note; a DSAR may carry the records and one file found.',
        params: TaskParams,
        body: ManualDoneInput,
        response: { 200: RightsRequest },
      },
    },
    async (request) =>
      requests.markTaskDone(principalOf(request), request.params.id, request.params.task, request.body),
  );
  app.post(
    '/v1/requests/:id/tasks/:task/complete',
    {
      config: { action: 'tickets:complete' },
      bodyLimit: TICKET_BODY_LIMIT_BYTES,
      schema: {
        operationId: 'completeTicket',
        summary: 'Complete a ticket',
        tags,
        params: TaskParams,
        body: TicketDoneInput,
        response: { 200: RightsRequest },
      },
    },
    async (request) =>
      requests.completeTicket(principalOf(request), request.params.id, request.params.task, request.body),
  );
  app.get(
    '/v1/tickets',
    {
      config: { action: 'tickets:complete' },
      schema: {
        operationId: 'listTickets',
        summary: 'List open tickets',
        tags,
        description: 'Open tickets: tasks waiting for a person. A service token sees its own system’s.',
        response: {
          200: ListOf(
            // `type: object` as TypeBox 0.34 wrote it (the serializer and the document keep it).
            Type.Intersect(
              [
                RequestTask,
                Type.Object({ requestId: Type.String(), type: Type.String(), dueAt: Type.String() }),
              ],
              { type: 'object' },
            ),
          ),
        },
      },
    },
    async (request) => ({ items: await requests.tickets(principalOf(request)) }),
  );
}

/** What a request did (report, DSAR package) and the overview of every request, as JSON or CSV. */
function requestReportRoutes(app: TypedApp, { requestReports }: Services) {
  app.get(
    '/v1/requests/:id/report',
    {
      ...read,
      schema: {
        operationId: 'getRequestReport',
        summary: "A request's report",
        tags,
        params: RequestIdParams,
        querystring: FormatQuery,
        response: { 200: ListOf(ReportRow) },
      },
    },
    async (request, reply) => {
      const rows = await requestReports.report(principalOf(request), request.params.id);
      if (!wantsCsv(request.query.format, request.headers.accept)) return { items: rows };
      return sendCsv(reply, `request-${request.params.id}-report.csv`, reportRowsCsv(rows));
    },
  );
  app.get(
    '/v1/requests/:id/package',
    {
      config: { action: 'requests:package' },
      schema: {
        operationId: 'getDsarPackage',
        summary: 'The DSAR package for the person',
        tags,
        description: 'The DSAR package for the person: JSON, or a readable page with ?format=html.',
        params: RequestIdParams,
        querystring: Type.Object(
          { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('html')])) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const dsar = await requestReports.dsarPackage(principalOf(request), request.params.id);
      if (request.query.format !== 'html') return dsar;
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(renderDsarPackageHtml(dsar));
    },
  );
  app.get(
    '/v1/reports/overview',
    {
      config: { action: 'reports:read' },
      schema: {
        operationId: 'getRequestsOverview',
        summary: 'Rights requests report',
        tags: ['reports'],
        querystring: FormatQuery,
        response: { 200: ListOf(OverviewRow) },
      },
    },
    async (request, reply) => {
      const rows = await requestReports.overview(principalOf(request));
      if (!wantsCsv(request.query.format, request.headers.accept)) return { items: rows };
      return sendCsv(reply, 'requests-overview.csv', overviewRowsCsv(rows));
    },
  );
}
