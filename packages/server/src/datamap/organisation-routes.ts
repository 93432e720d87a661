import { Organisation, TaxonomyExtensions } from '@lethe/api';
import { Type } from 'typebox';
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

/** Who the controller is (its DPO and contacts) and the taxonomy of data categories and purposes. */
export function organisationRoutes(app: TypedApp, { datamap }: Services) {
  const read = { config: { action: 'systems:read' } } as const;
  const write = { config: { action: 'systems:write' } } as const;
  const tags = ['data map'];

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
