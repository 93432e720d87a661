import {
  Flow,
  FlowInput,
  FlowParams,
  ListOf,
  NameParams,
  Organisation,
  RightsClient,
  RightsClientInput,
  TaxonomyExtensions,
  Team,
  TeamInput,
} from '@lethe/api';
import { Type } from '@sinclair/typebox';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

const TaxonomyListing = Type.Object({
  key: Type.String(),
  description: Type.String(),
  parent: Type.Optional(Type.String()),
  special: Type.Boolean(),
  origin: Type.Union([Type.Literal('default'), Type.Literal('extension')]),
});

/** The declared data map besides systems: teams, flows, rights clients, organisation, taxonomy. */
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

  app.get(
    '/v1/clients',
    {
      ...read,
      schema: {
        operationId: 'listRightsClients',
        summary: 'List rights clients',
        tags,
        response: { 200: ListOf(RightsClient) },
      },
    },
    async (request) => ({ items: await datamap.listClients(principalOf(request)) }),
  );
  app.put(
    '/v1/clients/:name',
    {
      ...write,
      schema: {
        operationId: 'putRightsClient',
        summary: 'Register or change a rights client',
        tags,
        params: NameParams,
        body: RightsClientInput,
        response: { 200: RightsClient, 201: RightsClient },
      },
    },
    async (request, reply) => {
      const result = await datamap.putClient(principalOf(request), request.params.name, request.body);
      return reply.status(result.created ? 201 : 200).send(result.value);
    },
  );
  app.delete(
    '/v1/clients/:name',
    {
      ...write,
      schema: {
        operationId: 'deleteRightsClient',
        summary: 'Remove a rights client',
        tags,
        params: NameParams,
      },
    },
    async (request, reply) => {
      await datamap.removeClient(principalOf(request), request.params.name);
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/organisation',
    {
      ...read,
      schema: {
        operationId: 'getOrganisation',
        summary: 'Get the organisation (controller and DPO)',
        tags,
        response: { 200: Organisation },
      },
    },
    (request) => datamap.organisation(principalOf(request)),
  );
  app.put(
    '/v1/organisation',
    {
      ...write,
      schema: {
        operationId: 'putOrganisation',
        summary: 'Change the organisation',
        tags,
        body: Organisation,
        response: { 200: Organisation, 201: Organisation },
      },
    },
    async (request, reply) => {
      const result = await datamap.putOrganisation(principalOf(request), request.body);
      return reply.status(result.created ? 201 : 200).send(result.value);
    },
  );

  app.get(
    '/v1/taxonomy',
    {
      ...read,
      schema: {
        operationId: 'getTaxonomy',
        summary: 'Get the data category and purpose taxonomy',
        tags,
        response: {
          200: Type.Object({
            categories: Type.Array(TaxonomyListing),
            purposes: Type.Array(TaxonomyListing),
          }),
        },
      },
    },
    (request) => datamap.taxonomy(principalOf(request)),
  );
  app.put(
    '/v1/taxonomy',
    {
      ...write,
      schema: {
        operationId: 'putTaxonomy',
        summary: 'Replace the taxonomy',
        tags,
        body: TaxonomyExtensions,
        response: { 200: TaxonomyExtensions },
      },
    },
    async (request) => (await datamap.putTaxonomy(principalOf(request), request.body)).value,
  );
}
