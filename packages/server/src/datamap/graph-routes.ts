import {
  DataMapDrift,
  DataMapGraph,
  DataMapGraphSummary,
  Destination,
  Holder,
  ListOf,
  NameParams,
} from '@lethe/api';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

const strict = { additionalProperties: false } as const;
const includeStale = Type.Optional(
  Type.Boolean({ description: 'also entries discovery has not seen lately' }),
);

export function graphRoutes(app: TypedApp, { graph }: Services) {
  const tags = ['data map'];
  const read = { config: { action: 'systems:read' } } as const;

  app.get(
    '/v1/datamap/graph',
    {
      ...read,
      schema: {
        operationId: 'getDataMapGraph',
        summary: 'The data map as a graph',
        tags,
        querystring: Type.Object(
          {
            team: Type.Optional(Type.String()),
            system: Type.Optional(Type.String()),
            category: Type.Optional(Type.String({ description: 'a parent category covers its children' })),
            includeStale,
            summary: Type.Optional(
              Type.Boolean({
                description: 'counts by kind, per category and between teams instead of the lists',
              }),
            ),
            limit: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: 10_000,
                description: 'at most this many edges; `next` pages on',
              }),
            ),
            after: Type.Optional(
              Type.String({ maxLength: 2048, description: 'the `next` of the previous page' }),
            ),
          },
          strict,
        ),
        response: { 200: Type.Union([DataMapGraph, DataMapGraphSummary]) },
      },
    },
    // A wide answer is megabytes: JSON.stringify of the (already shaped) graph is several times
    // faster than the schema serializer on it; the schema still documents the answer in OpenAPI.
    async (request, reply) =>
      reply
        .type('application/json; charset=utf-8')
        .send((await graph.graphJson(principalOf(request), request.query)) as never),
  );

  app.get(
    '/v1/datamap/holders',
    {
      ...read,
      schema: {
        operationId: 'listHolders',
        summary: 'Systems that hold a data category',
        tags,
        querystring: Type.Object({ category: Type.String(), includeStale }, strict),
        response: { 200: ListOf(Holder) },
      },
    },
    async (request) => ({
      items: await graph.holders(principalOf(request), request.query.category, request.query.includeStale),
    }),
  );

  app.get(
    '/v1/datamap/systems/:name/destinations',
    {
      ...read,
      schema: {
        operationId: 'listDestinations',
        summary: "Where a system's data flows to",
        tags,
        params: NameParams,
        querystring: Type.Object({ category: Type.Optional(Type.String()), includeStale }, strict),
        response: { 200: ListOf(Destination) },
      },
    },
    async (request) => ({
      items: await graph.destinations(
        principalOf(request),
        request.params.name,
        request.query.category,
        request.query.includeStale,
      ),
    }),
  );

  app.get(
    '/v1/datamap/drift',
    {
      ...read,
      schema: {
        operationId: 'getDrift',
        summary: 'Declared data map against observed telemetry',
        tags,
        response: { 200: DataMapDrift },
      },
    },
    (request) => graph.drift(principalOf(request)),
  );
}
