import {
  ListOf,
  NameParams,
  Policy,
  PolicyInput,
  PolicyVersion,
  PreviewInput,
  RetentionPreview,
  RetireQuery,
} from '@lethe/api';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

export function policyRoutes(app: TypedApp, { policies }: Services) {
  app.get(
    '/v1/policies',
    {
      config: { action: 'policies:read' },
      schema: {
        operationId: 'listPolicies',
        summary: 'List policies',
        tags: ['policies'],
        response: { 200: ListOf(Policy) },
      },
    },
    async (request) => ({
      items: await policies.list(principalOf(request)),
    }),
  );

  app.get(
    '/v1/policies/:name',
    {
      config: { action: 'policies:read' },
      schema: {
        operationId: 'getPolicy',
        summary: 'Get a policy',
        tags: ['policies'],
        params: NameParams,
        response: { 200: Policy },
      },
    },
    (request) => policies.get(principalOf(request), request.params.name),
  );

  app.get(
    '/v1/policies/:name/versions',
    {
      config: { action: 'policies:read' },
      schema: {
        operationId: 'listPolicyVersions',
        summary: "List a policy's versions",
        tags: ['policies'],
        params: NameParams,
        response: { 200: ListOf(PolicyVersion) },
      },
    },
    async (request) => ({ items: await policies.versions(principalOf(request), request.params.name) }),
  );

  app.put(
    '/v1/policies/:name',
    {
      config: { action: 'policies:write' },
      schema: {
        operationId: 'putPolicy',
        summary: 'Create or change a policy',
        tags: ['policies'],
        description:
          'A change of retention, legal basis or purpose answers at once with `recompute`: the job ' +
          'that recomputes the expiries in the background (`GET /v1/jobs/{id}`).',
        params: NameParams,
        body: PolicyInput,
        response: { 200: Policy, 201: Policy },
      },
    },
    async (request, reply) => {
      const result = await policies.put(principalOf(request), request.params.name, request.body);
      return reply.status(result.created ? 201 : 200).send(result.policy);
    },
  );

  app.delete(
    '/v1/policies/:name',
    {
      config: { action: 'policies:write' },
      schema: {
        operationId: 'retirePolicy',
        summary: 'Retire a policy',
        tags: ['policies'],
        description:
          'Kept for history and for the expiries it decided; new uses are refused. `reason` is ' +
          'required (`400 POLICY_CHANGE_REASON_REQUIRED` without it) and kept on the retired ' +
          'version and in the audit entry.',
        params: NameParams,
        querystring: RetireQuery,
        response: { 200: Policy },
      },
    },
    (request) => policies.retire(principalOf(request), request.params.name, request.query.reason),
  );

  app.post(
    '/v1/policies/:name/preview',
    {
      config: { action: 'policies:read' },
      schema: {
        operationId: 'previewRetention',
        summary: 'Preview a retention change',
        tags: ['policies'],
        params: NameParams,
        body: PreviewInput,
        response: { 200: RetentionPreview },
      },
    },
    (request) => policies.preview(principalOf(request), request.params.name, request.body),
  );
}
