import { describe, expect, it } from 'vitest';
import { CSV_LINE_END, csvLine, toCsv, type CsvValue } from './csv.js';

const csvCell = (value: CsvValue): string => csvLine([value]);

describe('csvCell', () => {
  it('writes plain text, numbers and booleans as they are, and nothing for null and undefined', () => {
    expect(csvCell('plain text')).toBe('plain text');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell('')).toBe('');
  });

  it('quotes cells with commas, quotes or line breaks and doubles quotes (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('line\r\nbreak')).toBe('"line\r\nbreak"');
    expect(csvCell('"')).toBe('""""');
  });

  it.each([
    ['=SUM(A1:A2)', "'=SUM(A1:A2)"],
    ['+1', "'+1"],
    ['-1+2', "'-1+2"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
  ])('guards %j against formula injection', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it('guards and quotes when both apply', () => {
    expect(csvCell('=HYPERLINK("http://evil.example","x")')).toBe(
      `"'=HYPERLINK(""http://evil.example"",""x"")"`,
    );
    expect(csvCell('\rx')).toBe(`"'\rx"`);
  });

  it('guards the full-width forms a spreadsheet also reads as a formula', () => {
    expect(csvCell('\uFF1D1+1')).toBe("'\uFF1D1+1");
  });

  it('leaves formula characters alone when they are not first', () => {
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('user@example.com')).toBe('user@example.com');
  });
});

describe('csvLine and toCsv', () => {
  it('joins cells with commas', () => {
    expect(csvLine(['a', 'b,c', undefined, 3])).toBe('a,"b,c",,3');
  });

  it('writes the header first and ends every line with CRLF', () => {
    const csv = toCsv(
      ['name', 'note'],
      [
        ['x', 'one'],
        ['y', 'two\nlines'],
      ],
    );
    expect(csv).toBe('name,note\r\nx,one\r\ny,"two\nlines"\r\n');
    expect(CSV_LINE_END).toBe('\r\n');
  });

  it('writes only the header when there are no rows', () => {
    expect(toCsv(['a', 'b'], [])).toBe('a,b\r\n');
  });
});
