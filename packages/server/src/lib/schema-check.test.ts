import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { compileCheck } from './schema-check.js';

/**
 * The words of NDJSON, CSV and manifest rejections stay TypeBox 0.34's (`Errors(value).First()`)
 * on TypeBox 1: each expectation below is what 0.34 said for the same value.
 */
const Line = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 2, maxLength: 4, pattern: '^a+$' })),
    kind: Type.Union([Type.Literal('x'), Type.Literal('y')]),
    count: Type.Integer({ minimum: 1, maximum: 9 }),
    ratio: Type.Optional(Type.Number({ minimum: 0 })),
    tags: Type.Array(Type.String(), { minItems: 1, maxItems: 2 }),
    flags: Type.Optional(Type.Record(Type.String(), Type.Boolean(), { maxProperties: 1 })),
    nested: Type.Optional(Type.Object({ on: Type.Literal(true) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
const line = compileCheck(Line);
const valid = { kind: 'x', count: 1, tags: ['t'] };
const first = (value: unknown) => {
  expect(line.check(value)).toBe(false);
  const [problem] = line.problems(value);
  return problem && `${problem.path} ${problem.kind}: ${problem.message}`;
};

describe('compileCheck', () => {
  it('takes what the schema takes', () => {
    expect(line.check(valid)).toBe(true);
    expect(line.problems(valid)).toEqual([]);
  });

  it('names a problem as TypeBox 0.34 did', () => {
    expect(first(null)).toBe(' other: Expected object');
    expect(first([])).toBe(' other: Expected object');
    expect(first({ count: 1 })).toBe('/kind required: Expected required property');
    expect(first({ ...valid, colour: 1 })).toBe('/colour unexpected: Unexpected property');
    expect(first({ ...valid, 'a/b~': 1 })).toBe('/a~1b~0 unexpected: Unexpected property');
    expect(first({ ...valid, kind: 'z' })).toBe('/kind other: Expected union value');
    expect(first({ ...valid, nested: { on: false } })).toBe('/nested/on other: Expected true');
    expect(first({ ...valid, nested: { on: 1 } })).toBe('/nested/on other: Expected true');
    expect(first({ ...valid, count: 1.5 })).toBe('/count other: Expected integer');
    expect(first({ ...valid, count: 0 })).toBe('/count other: Expected integer to be greater or equal to 1');
    expect(first({ ...valid, count: 10 })).toBe('/count other: Expected integer to be less or equal to 9');
    expect(first({ ...valid, ratio: -1 })).toBe('/ratio other: Expected number to be greater or equal to 0');
    expect(first({ ...valid, id: 'a' })).toBe('/id other: Expected string length greater or equal to 2');
    expect(first({ ...valid, id: 'aaaaa' })).toBe('/id other: Expected string length less or equal to 4');
    expect(first({ ...valid, id: 'bb' })).toBe("/id pattern: Expected string to match '^a+$'");
    expect(first({ ...valid, id: 7 })).toBe('/id other: Expected string');
    expect(first({ ...valid, tags: [] })).toBe(
      '/tags other: Expected array length to be greater or equal to 1',
    );
    expect(first({ ...valid, tags: ['a', 'b', 'c'] })).toBe(
      '/tags other: Expected array length to be less or equal to 2',
    );
    expect(first({ ...valid, tags: [1] })).toBe('/tags/0 other: Expected string');
    expect(first({ ...valid, flags: { a: 1 } })).toBe('/flags/a other: Expected boolean');
    expect(first({ ...valid, flags: { a: true, b: true } })).toBe(
      '/flags other: Expected object to have no more than 1 properties',
    );
  });

  it('orders problems as 0.34 did: required keys, unknown keys, then properties in schema order', () => {
    const problems = line.problems({ tags: 'no', kind: 'z', zz: 1, count: 'n' });
    expect(problems.map((problem) => `${problem.path} ${problem.kind}`)).toEqual([
      '/zz unexpected',
      '/kind other',
      '/count other',
      '/tags other',
    ]);
    // 0.34 went on to visit the missing properties again; a rejection names only the first.
    const missing = line.problems({ zz: 1 }).map((problem) => problem.path);
    expect(missing.slice(0, 4)).toEqual(['/kind', '/count', '/tags', '/zz']);
  });

  it('gives the offending value and the schema it broke', () => {
    const [pattern] = line.problems({ ...valid, id: 'bb' });
    expect(pattern).toMatchObject({ value: 'bb', schema: { pattern: '^a+$' } });
    const [missing] = line.problems({ kind: 'x', tags: ['t'] });
    expect(missing).toMatchObject({ path: '/count', value: undefined, schema: { type: 'integer' } });
  });

  it('finds every unknown key, past TypeBox 1’s default of 8 errors', () => {
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, n) => [`k${n}`, n]));
    const problems = line.problems({ ...valid, ...many, kind: 'z' });
    expect(problems.filter((problem) => problem.kind === 'unexpected')).toHaveLength(20);
    expect(problems.at(-1)).toMatchObject({ path: '/kind', message: 'Expected union value' });
  });
});
