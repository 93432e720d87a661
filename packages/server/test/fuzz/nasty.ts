import fc from 'fast-check';

/**
 * Values that have broken servers before: lone surrogates and control characters, malformed
 * percent-encoding, path traversal, injection-looking text, prototype keys, numbers at and past
 * the edges, dates that do not exist, durations that overflow, very long strings.
 */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\udc00\ud800',
  '\u0001\u001f\u007f',
  '\t\r\n',
  'line\nbreak',
  '%zz',
  '%',
  '%00',
  '%ED%A0%80',
  '%2e%2e%2f',
  '..',
  '.',
  '../../etc/passwd',
  '..\\..\\windows',
  '/',
  '//',
  '\\',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '"; drop table systems; --',
  '${7*7}',
  '{{7*7}}',
  'ünïcödé',
  '😀',
  '\u202e\u200b\ufeff',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  '{"a":1}',
  '~0123456789abcdef',
  'P',
  'P-1D',
  'PT0S',
  'P99999999999999Y',
  'P1Y2M3DT4H5M6.789S',
  '9999-99-99',
  '2024-02-30',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '2024-01-01T00:00:00+99:99',
  'http://[::1]:0/',
  'http://127.0.0.1:9/',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'user.',
  '.user',
  'user..contact',
  'USER.CONTACT',
  'a'.repeat(257),
  'x'.repeat(5000),
];

/** Numbers JSON can only carry as text: `1e309` parses to Infinity, `-0`, beyond 2^53… */
export const RAW_NUMBERS: readonly string[] = [
  '1e309',
  '-1e309',
  '-0',
  '1e-400',
  '9007199254740993',
  '-9007199254740993',
  '123456789012345678901234567890',
  '0.1',
  '1.5',
  '-1',
  '0',
  '4294967296',
];

/**
 * A raw number is carried through `JSON.stringify` as a marked string and put back as bare text
 * by `serialise`: the only way to send `1e309` in an otherwise well-formed body.
 */
const RAW_MARK = '\u0000raw:';
export function raw(number: string): string {
  return `${RAW_MARK}${number}`;
}
export function serialise(value: unknown): string {
  return (JSON.stringify(value) ?? '').replace(/"\\u0000raw:([^"]*)"/g, '$1');
}

/** Nesting deeper than any schema: recursion limits in parsers and validators. */
function nested(depth: number): unknown {
  let value: unknown = 'deep';
  for (let level = 0; level < depth; level += 1) value = level % 2 === 0 ? [value] : { a: value };
  return value;
}

export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 6 },
  { arbitrary: fc.constantFrom(...RAW_NUMBERS).map(raw), weight: 2 },
  {
    arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 2 ** 53, -(2 ** 31), 0.5, {}, [], [null]),
    weight: 3,
  },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 12 }), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
  { arbitrary: fc.constantFrom(40, 2_000).map(nested), weight: 1 },
);

/** One change to a JSON value at one place in it. */
interface Mutation {
  readonly kind: 'replace' | 'delete' | 'extra' | 'wrap' | 'flood';
  /** Which place: an index into the value's places, modulo their number. */
  readonly at: number;
  readonly replacement: unknown;
  readonly key: string;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom<Mutation['kind']>(
    'replace',
    'replace',
    'replace',
    'delete',
    'extra',
    'wrap',
    'flood',
  ),
  at: fc.nat(),
  replacement: nastyValue,
  key: fc.constantFrom('extra', '__proto__', 'constructor', 'id', 'subject', 'categories', ''),
});

/** `value` with one to three mutations applied (wrong types, missing or extra keys, floods…). */
export function mutatedOf(value: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .tuple(value, fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([original, mutations]) => mutations.reduce(apply, structuredClone(original)));
}

type Container = Record<string, unknown> | unknown[];
interface Place {
  readonly parent: Container | undefined;
  readonly key: string | number;
}

function placesOf(value: unknown): Place[] {
  const places: Place[] = [{ parent: undefined, key: '' }];
  const walk = (node: unknown, depth: number) => {
    if (depth > 8 || node === null || typeof node !== 'object') return;
    const container = node as Container;
    for (const key of Object.keys(container)) {
      const index = Array.isArray(container) ? Number(key) : key;
      places.push({ parent: container, key: index });
      walk((container as Record<string, unknown>)[key], depth + 1);
    }
  };
  walk(value, 0);
  return places;
}

function apply(value: unknown, original: Mutation): unknown {
  // The replacement may be a shared constant (`{}`, `[]`): a copy, so no body ever contains itself.
  const change = { ...original, replacement: structuredClone(original.replacement) };
  const places = placesOf(value);
  const place = places[change.at % places.length]!;
  const current = place.parent === undefined ? value : (place.parent as Record<string, unknown>)[place.key];
  let next: unknown;
  switch (change.kind) {
    case 'replace':
      next = change.replacement;
      break;
    case 'wrap':
      next = Array.isArray(current) ? { items: current } : [current];
      break;
    case 'flood': {
      // Many of one small thing (a batch of 300 events); a big thing only a few times.
      const item = Array.isArray(current) ? current[0] : current;
      const small = (JSON.stringify(item) ?? '').length < 300;
      next = Array.from({ length: small ? 300 : 3 }, () => item);
      break;
    }
    case 'extra':
      if (current !== null && typeof current === 'object' && !Array.isArray(current)) {
        // defineProperty: a key named __proto__ becomes an own property, as a parsed body's would.
        Object.defineProperty(current, change.key, {
          value: change.replacement,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        return value;
      }
      if (Array.isArray(current)) {
        current.push(change.replacement);
        return value;
      }
      next = change.replacement;
      break;
    case 'delete':
      if (place.parent === undefined) return undefined;
      if (Array.isArray(place.parent)) place.parent.splice(place.key as number, 1);
      else delete place.parent[place.key as string];
      return value;
  }
  if (place.parent === undefined) return next;
  (place.parent as Record<string, unknown>)[place.key] = next;
  return value;
}
