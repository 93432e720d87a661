import type { JsonSchema } from './schema-arbitrary.js';

/** One route and method of the OpenAPI document, with what it takes. */
export interface Operation {
  /** `PUT /v1/systems/{name}`, as the document writes the path. */
  readonly key: string;
  readonly method: string;
  readonly template: string;
  readonly pathParams: readonly { readonly name: string; readonly schema: JsonSchema }[];
  readonly query: readonly { readonly name: string; readonly schema: JsonSchema }[];
  /** Body schemas by content type; absent for a route without a body. */
  readonly body?: Readonly<Record<string, JsonSchema>>;
}

interface Document {
  readonly paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { in: string; name: string; schema: JsonSchema }[];
        requestBody?: { content: Record<string, { schema: JsonSchema }> };
      }
    >
  >;
}

/**
 * Routes the document hides (they are not API operations) but that answer anyone, so they are
 * fuzzed too: the document itself, the dashboard and its assets. (The probes and the metrics are
 * in the document.)
 */
const HIDDEN_ROUTES: Operation[] = [
  ...['/openapi.json', '/'].map((template) => ({
    key: `GET ${template}`,
    method: 'GET',
    template,
    pathParams: [],
    query: [],
  })),
  {
    key: 'GET /assets/{file}',
    method: 'GET',
    template: '/assets/{file}',
    pathParams: [{ name: 'file', schema: { type: 'string' } }],
    query: [],
  },
];

/** Every operation of the server's OpenAPI document, plus the hidden public routes. */
export function operationsOf(document: unknown): Operation[] {
  const operations: Operation[] = [...HIDDEN_ROUTES];
  for (const [template, methods] of Object.entries((document as Document).paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const parameters = operation.parameters ?? [];
      const content = operation.requestBody?.content;
      operations.push({
        key: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        pathParams: parameters.filter((p) => p.in === 'path').map(({ name, schema }) => ({ name, schema })),
        query: parameters.filter((p) => p.in === 'query').map(({ name, schema }) => ({ name, schema })),
        ...(content
          ? {
              body: Object.fromEntries(Object.entries(content).map(([type, { schema }]) => [type, schema])),
            }
          : {}),
      });
    }
  }
  return operations;
}
