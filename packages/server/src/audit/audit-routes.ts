import { AuditCheckpoint, AuditPage, AuditQuery, AuditVerification, ListOf } from '@lethe/api';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

export function auditRoutes(app: TypedApp, { audit }: Services) {
  app.get(
    '/v1/audit',
    {
      config: { action: 'audit:read' },
      schema: {
        operationId: 'listAuditEntries',
        summary: 'The audit log',
        tags: ['audit'],
        description: 'The hash-chained audit log, oldest first; page with `after` = the last `seq` seen.',
        querystring: AuditQuery,
        response: { 200: AuditPage },
      },
    },
    (request) => audit.list(principalOf(request), request.query.after, request.query.limit),
  );

  app.get(
    '/v1/audit/verify',
    {
      config: { action: 'audit:read' },
      schema: {
        operationId: 'verifyAudit',
        summary: 'Verify the audit chain',
        tags: ['audit'],
        description: 'Recomputes the chain and checks every signed checkpoint; names the first broken link.',
        response: { 200: AuditVerification },
      },
    },
    (request) => audit.verify(principalOf(request)),
  );

  app.get(
    '/v1/audit/checkpoints',
    {
      config: { action: 'audit:read' },
      schema: {
        operationId: 'listAuditCheckpoints',
        summary: 'List signed audit checkpoints',
        tags: ['audit'],
        response: { 200: ListOf(AuditCheckpoint) },
      },
    },
    async (request) => ({ items: await audit.checkpoints(principalOf(request)) }),
  );

  app.post(
    '/v1/audit/checkpoints',
    {
      config: { action: 'audit:checkpoint' },
      schema: {
        operationId: 'signAuditCheckpoint',
        summary: 'Sign an audit checkpoint now',
        tags: ['audit'],
        description: 'Signs the current head now (also done on a schedule). 204 when nothing is new.',
        response: { 201: AuditCheckpoint, 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const checkpoint = await audit.checkpoint(principalOf(request));
      return checkpoint ? reply.status(201).send(checkpoint) : reply.status(204).send(null);
    },
  );
}
