import { TEXT_PATTERN } from '@lethe/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findBadText, MAX_DEPTH, textProblem } from './text-rule.js';

describe('the text rule', () => {
  it('takes well-formed text, control characters other than NUL included', () => {
    for (const text of [
      '',
      'plain',
      'Zoë',
      '😀 pair',
      'tab\there\nline',
      '\u0001\u007f\u0085',
      '\ud83d\ude00',
    ])
      expect(textProblem(text), JSON.stringify(text)).toBeUndefined();
  });

  it('names NUL and lone surrogates, wherever they stand', () => {
    expect(textProblem('a\u0000')).toBe('holds U+0000, a control character');
    expect(textProblem('\ud800')).toBe('holds U+D800, a lone surrogate (not valid Unicode text)');
    expect(textProblem('x\udfff')).toBe('holds U+DFFF, a lone surrogate (not valid Unicode text)');
    // A pair the wrong way round is two lone surrogates.
    expect(textProblem('\ude00\ud83d')).toBe('holds U+DE00, a lone surrogate (not valid Unicode text)');
  });

  it('is the search form of TEXT_PATTERN', () => {
    const pattern = new RegExp(TEXT_PATTERN);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (text) => {
        expect(textProblem(text) === undefined).toBe(pattern.test(text));
        // In Unicode's own terms: no surrogate code point (Cs), no NUL.
        expect(textProblem(text) === undefined).toBe(!/\p{Cs}/u.test(text) && !text.includes('\u0000'));
      }),
      { numRuns: 500 },
    );
  });
});

describe('findBadText', () => {
  it('points at the first bad string in document order, as a JSON pointer', () => {
    const body = { a: ['ok', { 'b/c~': 'x\u0000' }], d: '\ud800' };
    expect(findBadText(body)).toEqual({
      path: '/a/1/b~1c~0',
      problem: 'holds U+0000, a control character',
      inName: false,
      tooDeep: false,
    });
    expect(findBadText({ ok: { 'k\ud800': 1 } })).toMatchObject({ path: '/ok', inName: true });
    expect(findBadText('\u0000')).toMatchObject({ path: '' });
    expect(findBadText({ a: [1, true, null, 'fine\n'] })).toBeUndefined();
  });

  it('stops at MAX_DEPTH, however deep the value goes, and finds text just above it', () => {
    const nest = (leaf: unknown, depth: number) => {
      let value = leaf;
      for (let level = 0; level < depth; level += 1) value = level % 2 ? [value] : { k: value };
      return value;
    };
    expect(findBadText(nest('ok', 1_000_000))).toMatchObject({ tooDeep: true });
    expect(findBadText(nest('ok', MAX_DEPTH))).toBeUndefined();
    expect(findBadText(nest('x\u0000', MAX_DEPTH))).toMatchObject({ tooDeep: false, inName: false });
    expect(findBadText(nest({}, MAX_DEPTH))).toMatchObject({ tooDeep: true });
  });
});
