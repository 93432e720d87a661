import fc from 'fast-check';
import { mutatedOf, NASTY_STRINGS, nastyValue, RAW_NUMBERS, serialise } from './nasty.js';
import type { Operation } from './operations.js';
import { encodePart } from './raw-http.js';
import { arbitraryOf, type JsonSchema, type Words } from './schema-arbitrary.js';
import { SEEDS, TEXT_SEEDS } from './seeds.js';

/** One generated request, before a token is attached. */
export interface FuzzRequest {
  readonly operation: Operation;
  /** Index into the world's callers. */
  readonly caller: number;
  readonly method: string;
  /** Path values as generated (decoded), by parameter name. */
  readonly pathValues: Readonly<Record<string, string>>;
  readonly query: string;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly body: Buffer | undefined;
}

/** Content types sent besides the one a route declares. */
const OTHER_CONTENT_TYPES = [
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/JSON',
  'application/x-ndjson',
  'text/plain',
  'text/csv',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'garbage',
  '',
];
const ACCEPTS = ['application/x-ndjson', 'text/csv', 'text/html', '*/*', 'application/json;q=0', 'image/png'];

/** Bodies that are not what any route takes. */
const JUNK: readonly Buffer[] = [
  '',
  '{',
  '{"a":',
  'null',
  '[]',
  '"x"',
  '1e309',
  '\ufeff{}',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
  '{"a":1,"a":2}',
  'a,b\n1,2\n',
  '<xml/>',
].map((text) => Buffer.from(text));
const INVALID_UTF8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d]);

/** How a path or query value goes on the wire: encoded as a client should, or not at all. */
function onTheWire(value: string, raw: boolean): string {
  // Node refuses to send characters outside 0x21-0xff in a path: those are always encoded.
  return raw && /^[\u0021-\u00ff]*$/.test(value) ? value : encodePart(value);
}

function pathValue(name: string, schema: JsonSchema, words: Words): fc.Arbitrary<string> {
  const known = words.byKey[name] ?? words.general;
  return fc.oneof(
    { arbitrary: fc.constantFrom(...known), weight: 6 },
    { arbitrary: arbitraryOf(schema, words, name).map(String), weight: 2 },
    { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 2 },
  );
}

function queryOf(operation: Operation, words: Words): fc.Arbitrary<string> {
  const parameters = operation.query.map(({ name, schema }) =>
    fc.option(
      fc.tuple(
        fc.oneof(
          { arbitrary: arbitraryOf(schema, words, name).map(String), weight: 6 },
          { arbitrary: fc.constantFrom(...NASTY_STRINGS, ...RAW_NUMBERS), weight: 2 },
        ),
        fc.boolean(), // sent twice: the value becomes an array
      ),
      { freq: 2 },
    ),
  );
  const extra = fc.option(fc.constantFrom('x=1', 'limit', '=', '&&', 'a[b]=c', '%zz=1', 'cursor=%ED%A0%80'), {
    freq: 8,
  });
  return fc.tuple(fc.tuple(...parameters), extra, fc.boolean()).map(([values, more, raw]) => {
    const pairs: string[] = [];
    values.forEach((value, index) => {
      if (value === null) return;
      const [text, twice] = value;
      const pair = `${operation.query[index]!.name}=${onTheWire(text, raw)}`;
      pairs.push(pair);
      if (twice) pairs.push(pair);
    });
    if (more !== null) pairs.push(more);
    return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
  });
}

/** A JSON body: the seed as is, mutated, or generated from the schema (mutated or not). */
function jsonBody(operation: Operation, type: string, words: Words): fc.Arbitrary<Buffer> {
  const schema = operation.body?.[type] ?? {};
  const seed = SEEDS[operation.key];
  const generated = arbitraryOf(schema, words);
  const options: fc.WeightedArbitrary<unknown>[] = [
    { arbitrary: generated, weight: 2 },
    { arbitrary: mutatedOf(generated), weight: 1 },
  ];
  if (seed !== undefined) {
    options.push(
      { arbitrary: fc.constant(seed), weight: 3 },
      { arbitrary: mutatedOf(fc.constant(seed)), weight: 4 },
    );
  }
  return fc.oneof(...options).map((value) => {
    if (type === 'application/x-ndjson' && Array.isArray(value)) {
      return Buffer.from(value.map((line) => serialise(line)).join('\n'));
    }
    return Buffer.from(value === undefined ? '' : serialise(value));
  });
}

/** A CSV or NDJSON seed with a nasty value spliced in, a line doubled or the header dropped. */
function textBody(text: string): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.nat(), fc.constantFrom('splice', 'double', 'headless', 'as-is'), nastyValue)
    .map(([at, how, nasty]) => {
      const lines = text.split('\n');
      switch (how) {
        case 'splice': {
          const position = at % (text.length + 1);
          return Buffer.from(
            `${text.slice(0, position)}${typeof nasty === 'string' ? nasty : serialise(nasty)}${text.slice(position)}`,
          );
        }
        case 'double':
          return Buffer.from([...lines, ...lines.slice(1)].join('\n'));
        case 'headless':
          return Buffer.from(lines.slice(1).join('\n'));
        default:
          return Buffer.from(text);
      }
    });
}

/** Body and content type: mostly what the route declares, sometimes anything else. */
function bodyOf(operation: Operation, words: Words): fc.Arbitrary<[Buffer | undefined, string | undefined]> {
  const declared = Object.keys(operation.body ?? {});
  const texts = TEXT_SEEDS[operation.key] ?? {};
  const junk = fc.tuple(fc.constantFrom(...JUNK, INVALID_UTF8), fc.constantFrom(...OTHER_CONTENT_TYPES));
  const none = fc.constant<[Buffer | undefined, string | undefined]>([undefined, undefined]);
  if (declared.length === 0) {
    return fc.oneof({ arbitrary: none, weight: 8 }, { arbitrary: junk, weight: 2 });
  }
  const options: fc.WeightedArbitrary<[Buffer | undefined, string | undefined]>[] = [
    { arbitrary: junk, weight: 2 },
    { arbitrary: none, weight: 1 },
  ];
  for (const type of declared) {
    options.push({
      arbitrary: fc.tuple(jsonBody(operation, type, words), fc.constant(type)),
      weight: Math.ceil(12 / declared.length),
    });
  }
  for (const [type, text] of Object.entries(texts)) {
    options.push({ arbitrary: fc.tuple(textBody(text), fc.constant(type)), weight: 4 });
  }
  // The right body under another content type.
  options.push({
    arbitrary: fc.tuple(jsonBody(operation, declared[0]!, words), fc.constantFrom(...OTHER_CONTENT_TYPES)),
    weight: 1,
  });
  return fc.oneof(...options);
}

function requestOf(
  operation: Operation,
  callers: fc.Arbitrary<number>,
  words: Words,
): fc.Arbitrary<FuzzRequest> {
  const path = fc.tuple(...operation.pathParams.map(({ name, schema }) => pathValue(name, schema, words)));
  return fc
    .record({
      caller: callers,
      method: fc.oneof(
        { arbitrary: fc.constant(operation.method), weight: 49 },
        { arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'DELETE', 'PUT'), weight: 1 },
      ),
      path,
      query: queryOf(operation, words),
      body: bodyOf(operation, words),
      accept: fc.option(fc.constantFrom(...ACCEPTS), { freq: 8 }),
    })
    .map(({ caller, method, path: values, query, body, accept }) => ({
      operation,
      caller,
      method,
      pathValues: Object.fromEntries(operation.pathParams.map(({ name }, index) => [name, values[index]!])),
      query,
      body: body[0],
      contentType: body[1],
      accept: accept ?? undefined,
    }));
}

/**
 * Requests over every operation, each as one of the callers: `weights[i]` is how often caller
 * `i` is drawn (authenticated callers more often than the ones who must get nowhere).
 */
export function requestArbitrary(
  operations: readonly Operation[],
  weights: readonly number[],
  words: Words,
): fc.Arbitrary<FuzzRequest> {
  const callers = fc.oneof(...weights.map((weight, index) => ({ arbitrary: fc.constant(index), weight })));
  return fc.oneof(...operations.map((operation) => requestOf(operation, callers, words)));
}

/** The request line's path: the template with its values, encoded (or, sometimes, raw). */
export function pathOf(request: FuzzRequest): string {
  let path = request.operation.template;
  for (const [name, value] of Object.entries(request.pathValues)) {
    // Nasty values go raw one time in three: `..`, `%zz`, `%ED%A0%80` reach the router as is.
    const raw = NASTY_STRINGS.includes(value) && value.length % 3 === 0;
    path = path.replace(`{${name}}`, onTheWire(value, raw));
  }
  return `${path}${request.query}`;
}
