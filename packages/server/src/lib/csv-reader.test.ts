import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.js';
import { CsvFormatError, readCsv } from './csv-reader.js';

const failure = (text: string): CsvFormatError => {
  try {
    readCsv(text);
  } catch (error) {
    if (error instanceof CsvFormatError) return error;
    throw error;
  }
  throw new Error('expected a CsvFormatError');
};

describe('readCsv', () => {
  it('reads plain fields, keeping spaces', () => {
    expect(readCsv('a,b,c\n1, 2 ,\n')).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', ' 2 ', ''] },
    ]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    expect(readCsv('name,note\r\n"Smith, Ann","she said ""hi""\r\nand left"\r\n"",x\r\n')).toEqual([
      { line: 1, fields: ['name', 'note'] },
      { line: 2, fields: ['Smith, Ann', 'she said "hi"\r\nand left'] },
      { line: 4, fields: ['', 'x'] },
    ]);
  });

  it('accepts LF, CRLF and lone CR line ends, and a last line without one', () => {
    expect(readCsv('a\nb\r\nc\rd').map((record) => [record.line, record.fields[0]])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
  });

  it('drops a byte order mark at the start only', () => {
    expect(readCsv('\uFEFFid,type\n\uFEFFx,y\n')).toEqual([
      { line: 1, fields: ['id', 'type'] },
      { line: 2, fields: ['\uFEFFx', 'y'] },
    ]);
  });

  it('skips empty lines but counts them', () => {
    expect(readCsv('\n\r\na\n\n\nb\n\n')).toEqual([
      { line: 3, fields: ['a'] },
      { line: 6, fields: ['b'] },
    ]);
  });

  it('counts the lines inside a quoted field for the records after it', () => {
    const records = readCsv('h\n"one\ntwo\r\nthree\rfour"\nnext\n');
    expect(records.map((record) => record.line)).toEqual([1, 2, 6]);
    expect(records[1]?.fields).toEqual(['one\ntwo\r\nthree\rfour']);
  });

  it('keeps a quote inside an unquoted field as text', () => {
    expect(readCsv('5" screen,b\n')[0]?.fields).toEqual(['5" screen', 'b']);
  });

  it('reads nothing from an empty text', () => {
    expect(readCsv('')).toEqual([]);
    expect(readCsv('\uFEFF')).toEqual([]);
  });

  it('names the line where a never-closed quote opened', () => {
    const error = failure('a,b\n1,2\n3,"oops\nmore\n');
    expect(error.line).toBe(3);
    expect(error.message).toBe('line 3: a quoted field is never closed');
  });

  it('refuses text after a closing quote, naming its line', () => {
    expect(failure('a\n"x\ny"z\n').line).toBe(3);
  });

  it('reads back what the writer wrote', () => {
    // The writer guards formula-like cells with a leading `'`; keep to cells it leaves alone.
    const text = fc
      .string({ unit: fc.constantFrom('"', ',', '\r', '\n', 'a', 'é', ' ', '-', '\uFEFF'), maxLength: 12 })
      .map((cell) => (/^[=+\-@\t\r]/.test(cell) ? `x${cell}` : cell));
    fc.assert(
      fc.property(
        fc.array(fc.array(text, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 5 }),
        (rows) => {
          const header = ['h1', 'h2'];
          const read = readCsv(toCsv(header, rows));
          expect(read.map((record) => record.fields)).toEqual([header, ...rows]);
        },
      ),
    );
  });

  it('throws nothing but CsvFormatError on any input', () => {
    const alphabet = fc.constantFrom('"', ',', '\r', '\n', 'a', ' ', '\uFEFF');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 40 }), (text) => {
        try {
          readCsv(text);
        } catch (error) {
          expect(error).toBeInstanceOf(CsvFormatError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
