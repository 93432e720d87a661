import { Flow, FlowInput, FlowParams, ListOf, NameParams, Team, TeamInput } from '@lethe/api';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

/** The declared data map besides systems: teams and the flows between systems. */
export function datamapRoutes(app: TypedApp, { datamap }: Services) {
  const read = { config: { action: 'systems:read' } } as const;
  const write = { config: { action: 'systems:write' } } as const;
  const tags = ['data map'];

  app.get(
    '/v1/teams',
    {
      ...read,
      schema: { operationId: 'listTeams', summary: 'List teams', tags, response: { 200: ListOf(Team) } },
    },
    async (request) => ({
      items: await datamap.listTeams(principalOf(request)),
    }),
  );
  app.put(
    '/v1/teams/:name',
    {
      ...write,
      schema: {
        operationId: 'putTeam',
        summary: 'Create or change a team',
        tags,
        params: NameParams,
        body: TeamInput,
        response: { 200: Team, 201: Team },
      },
    },
    async (request, reply) => {
      const result = await datamap.putTeam(principalOf(request), request.params.name, request.body);
      return reply.status(result.created ? 201 : 200).send(result.value);
    },
  );
  app.delete(
    '/v1/teams/:name',
    { ...write, schema: { operationId: 'deleteTeam', summary: 'Remove a team', tags, params: NameParams } },
    async (request, reply) => {
      await datamap.removeTeam(principalOf(request), request.params.name);
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/flows',
    {
      ...read,
      schema: { operationId: 'listFlows', summary: 'List data flows', tags, response: { 200: ListOf(Flow) } },
    },
    async (request) => ({
      items: await datamap.listFlows(principalOf(request)),
    }),
  );
  app.put(
    '/v1/flows/:from/:to',
    {
      ...write,
      schema: {
        operationId: 'putFlow',
        summary: 'Declare a data flow',
        tags,
        params: FlowParams,
        body: FlowInput,
        response: { 200: Flow, 201: Flow },
      },
    },
    async (request, reply) => {
      const { from, to } = request.params;
      const result = await datamap.putFlow(principalOf(request), from, to, request.body);
      return reply.status(result.created ? 201 : 200).send(result.value);
    },
  );
  app.delete(
    '/v1/flows/:from/:to',
    {
      ...write,
      schema: { operationId: 'deleteFlow', summary: 'Remove a data flow', tags, params: FlowParams },
    },
    async (request, reply) => {
      await datamap.removeFlow(principalOf(request), request.params.from, request.params.to);
      return reply.status(204).send();
    },
  );
}
