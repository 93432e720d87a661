import type { SwaggerOptions } from '@fastify/swagger';
import * as api from '@lethe/api';
import { Type, type TSchema } from 'typebox';

/**
 * The OpenAPI document as other languages' generators need it. Routes give their `operationId`,
 * `summary`, tags and schemas; this module adds what is the same for every route, on the document
 * only (never on validation or serialisation):
 * - the error envelope as `4XX`/`5XX` answers of every operation;
 * - the `@lethe/api` schemas as named `components.schemas`, referenced where a route uses them, so
 *   a generator makes one `Policy` type instead of one per operation;
 * - `text/csv` answers of the routes that take `?format=csv`;
 * - the items of per-item validated batches (`config.documentedItems`): the body is validated item by
 *   item in the service (one bad event must not refuse the batch), so its schema says `unknown[]`.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The schema of one item of a batch body validated item by item (documentation only). */
    documentedItems?: object;
  }
}

const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable error code; the registry is in docs/api.md.' }),
      message: Type.String(),
      requestId: Type.Optional(Type.String()),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { description: 'Every refusal and failure: `{"error": {"code", "message"}}`.' },
);

export function openApiOptions(version: string): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lethe API',
        version,
        description:
          'Privacy control plane: policies, usage telemetry, expiries, data map, consent, privacy streams and ' +
          'rights requests. Every answer other than 2xx carries the error envelope with a stable code.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: 'http://127.0.0.1:7420', description: 'Lethe as `npm start` serves it' }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url, route }) => {
      const items = route.config?.documentedItems;
      const routeSchema = schema as Record<string, unknown>;
      return { schema: items ? withDocumentedItems(routeSchema, items) : routeSchema, url };
    },
    transformObject: (document) =>
      'openapiObject' in document
        ? finishDocument(document.openapiObject as OpenApiDocument)
        : document.swaggerObject,
  };
}

interface OpenApiDocument {
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown>; responses?: Record<string, unknown> };
  [key: string]: unknown;
}
interface Operation {
  parameters?: { in: string; name: string; schema?: { enum?: unknown[]; anyOf?: { const?: unknown }[] } }[];
  responses?: Record<string, { description?: string; content?: Record<string, unknown> } | { $ref: string }>;
  [key: string]: unknown;
}

function finishDocument(document: OpenApiDocument): OpenApiDocument {
  const named = namedSchemas();
  const hoisted = hoistSchemas(document, named);
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...hoisted, Error: plain(ErrorEnvelope) },
    responses: {
      ...document.components?.responses,
      Error: {
        description: 'Refused or failed; `error.code` says why.',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
  };
  for (const operation of operations(document)) {
    const responses = (operation.responses ??= {});
    if (takesCsvFormat(operation)) addCsvAnswer(responses);
    for (const [status, answer] of Object.entries(responses)) {
      // @fastify/swagger's placeholder for answers without a description.
      if ('description' in answer && answer.description === 'Default Response')
        answer.description = STATUS_TEXT[status] ?? 'Success';
    }
    responses['4XX'] ??= { $ref: '#/components/responses/Error' };
    responses['5XX'] ??= { $ref: '#/components/responses/Error' };
  }
  return document;
}

const STATUS_TEXT: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' };

function* operations(document: OpenApiDocument): Generator<Operation> {
  for (const path of Object.values(document.paths ?? {})) yield* Object.values(path);
}

/** `?format=json|csv` (`FormatQuery`): the 200 answer is JSON or CSV. */
function takesCsvFormat(operation: Operation): boolean {
  return (operation.parameters ?? []).some(
    (parameter) =>
      parameter.in === 'query' &&
      parameter.name === 'format' &&
      JSON.stringify(parameter.schema ?? {}).includes('"csv"'),
  );
}

function addCsvAnswer(responses: NonNullable<Operation['responses']>): void {
  const ok = responses['200'];
  if (!ok || '$ref' in ok) return;
  ok.content = {
    ...ok.content,
    'text/csv': { schema: { type: 'string', description: 'With `?format=csv` or `Accept: text/csv`.' } },
  };
}

/** The body schema with every `unknown` array item replaced by the documented item schema. */
function withDocumentedItems(schema: Record<string, unknown>, items: object): Record<string, unknown> {
  const replace = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(replace);
    if (node === null || typeof node !== 'object') return node;
    const record = node as Record<string, unknown>;
    if (record['type'] === 'array' && isUnknown(record['items'])) return { ...record, items };
    return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, replace(value)]));
  };
  return { ...schema, body: replace(schema['body']) };
}

function isUnknown(schema: unknown): boolean {
  return Type.IsUnknown(schema);
}

/** The exported object schemas of `@lethe/api` by name, as JSON. */
function namedSchemas(): Map<string, string> {
  const byJson = new Map<string, string>();
  for (const [name, value] of Object.entries(api).sort(([a], [b]) => a.localeCompare(b))) {
    if (!isObjectSchema(value)) continue;
    const json = canonical(plain(value));
    if (!byJson.has(json)) byJson.set(json, name);
  }
  return byJson;
}

function isObjectSchema(value: unknown): value is TSchema {
  return Type.IsObject(value);
}

/**
 * Replaces every inline schema equal to a named `@lethe/api` schema with a reference, outermost
 * first (a `RightsRequest` becomes one reference, not a copy with its parts referenced).
 */
function hoistSchemas(document: OpenApiDocument, named: Map<string, string>): Record<string, unknown> {
  const components: Record<string, unknown> = {};
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const record = node as Record<string, unknown>;
    if (record['type'] === 'object') {
      const name = named.get(canonical(record));
      if (name !== undefined) {
        components[name] ??= Object.fromEntries(
          Object.entries(record).map(([key, value]) => [key, visit(value)]),
        );
        return { $ref: `#/components/schemas/${name}` };
      }
    }
    return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, visit(value)]));
  };
  document.paths = visit(document.paths) as OpenApiDocument['paths'];
  return components;
}

/** A TypeBox schema as the JSON it stands for (TypeBox's non-enumerable `~kind` dropped). */
function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/**
 * JSON with sorted keys: equal schemas, equal strings. Read as @fastify/swagger writes them:
 * `const: x` as `enum: [x]`, and a record's `patternProperties: {"^.*$": X}` (TypeBox 0.34 wrote
 * the key `^(.*)$`) as `additionalProperties: X`.
 */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, node: unknown) => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
    const { const: constant, patternProperties, ...rest } = node as Record<string, unknown>;
    const keys = patternProperties as Record<string, unknown> | undefined;
    const anyKey = keys?.['^.*$'] ?? keys?.['^(.*)$'];
    const written = {
      ...rest,
      ...(constant === undefined ? {} : { enum: [constant] }),
      ...(anyKey === undefined ? {} : { additionalProperties: anyKey }),
    };
    return Object.fromEntries(Object.entries(written).sort(([a], [b]) => a.localeCompare(b)));
  });
}
