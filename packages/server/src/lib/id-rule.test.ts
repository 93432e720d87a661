import { ConsentInput, SubjectId } from '@lethe/api';
import { Type } from 'typebox';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idProblem, schemaProblem } from './id-rule.js';
import { compileCheck } from './schema-check.js';

const WELL_FORMED = [
  'u-1',
  'ann@example.com',
  'Zoë Ünal',
  '😀 emoji pair',
  '  spaces  ',
  'a\u2028b',
  'x'.repeat(256),
];
const BROKEN: [string, string][] = [
  ['u-\ud800', 'holds U+D800, a lone surrogate (not valid Unicode text)'],
  ['\udc00u', 'holds U+DC00, a lone surrogate (not valid Unicode text)'],
  ['\ude00\ud83d', 'holds U+DE00, a lone surrogate (not valid Unicode text)'],
  ['u-\u0000', 'holds U+0000, a control character'],
  ['tab\there', 'holds U+0009, a control character'],
  ['line\n', 'holds U+000A, a control character'],
  ['del\u007f', 'holds U+007F, a control character'],
  ['c1\u0085', 'holds U+0085, a control character'],
  ['😀\u009f', 'holds U+009F, a control character'],
];

describe('the id rule', () => {
  it('takes well-formed text without control characters', () => {
    for (const id of WELL_FORMED) expect(idProblem(id, 256), JSON.stringify(id)).toBeUndefined();
  });

  it('names the first character at fault', () => {
    for (const [id, reason] of BROKEN) expect(idProblem(id, 256), JSON.stringify(id)).toBe(reason);
  });

  it('refuses what is not a string of 1 to maxLength characters', () => {
    expect(idProblem('', 256)).toBe('must be 1 to 256 characters long');
    expect(idProblem('x'.repeat(9), 8)).toBe('must be 1 to 8 characters long');
    expect(idProblem(7, 8)).toBe('must be a string');
  });

  it('is one pattern that Ajv, TypeBox (both in unicode mode) and the function apply alike', () => {
    const ajv = new Ajv().compile(SubjectId);
    const typebox = compileCheck(SubjectId);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), (text) => {
        const valid = idProblem(text, 256) === undefined;
        expect(ajv(text)).toBe(valid);
        expect(typebox.check(text)).toBe(valid);
        // The rule in Unicode's own terms: no surrogate code point (Cs), no control (Cc).
        expect(valid).toBe(!/\p{Cs}|\p{Cc}/u.test(text));
      }),
      { numRuns: 500 },
    );
  });
});

describe('schemaProblem', () => {
  const line = compileCheck(Type.Object({ subject: SubjectId, notice: ConsentInput.properties.notice }));
  const problem = (value: unknown) => schemaProblem(line.problems(value)[0], 'fallback');

  it('states an id or text that breaks its rule in the rule’s words', () => {
    expect(problem({ subject: 'u-\ud800' })).toBe(
      '/subject: holds U+D800, a lone surrogate (not valid Unicode text)',
    );
    expect(problem({ subject: 'u', notice: 'v\u0000' })).toBe('/notice: holds U+0000, a control character');
    // Free text may hold line breaks; an id may not.
    expect(problem({ subject: 'u', notice: 'a\nb' })).toBe('fallback');
  });

  it('keeps the schema’s own words for everything else', () => {
    expect(problem({ subject: 'x'.repeat(300) })).toMatch(
      /^\/subject: Expected string length less or equal to 256/,
    );
    expect(problem({})).toMatch(/^\/subject: Expected required property/);
  });
});
