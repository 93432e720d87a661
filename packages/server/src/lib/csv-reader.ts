/**
 * Reads CSV as RFC 4180 writes it, and as spreadsheets export it: comma separated, fields in
 * double quotes may hold commas, line breaks and doubled quotes; records end with CRLF, LF or a
 * lone CR; a byte order mark at the start is dropped; empty lines are skipped. The writer is
 * csv.ts.
 *
 * Lenient where nothing is lost (a quote inside an unquoted field is kept as text), strict where a
 * guess could shift data into the wrong column (text after a closing quote, a quote never closed).
 */

/** One record; `line` is the physical line (1-based) it starts on, as an editor shows it. */
export interface CsvRecord {
  readonly line: number;
  readonly fields: string[];
}

/** A file that cannot be read as CSV, or (for readers built on this one) has the wrong shape. */
export class CsvFormatError extends Error {
  readonly code = 'CSV_INVALID';

  constructor(
    readonly reason: string,
    /** 1-based physical line. */
    readonly line: number,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'CsvFormatError';
  }
}

const QUOTE = '"';
const COMMA = ',';
const CR = '\r';
const LF = '\n';

/**
 * The records of a CSV text, one at a time, so a caller can stop early on a file that is too big.
 * Throws CsvFormatError for a quote that is never closed or text after a closing quote.
 */
export function* csvRecords(text: string): Generator<CsvRecord> {
  let position = text.startsWith('\uFEFF') ? 1 : 0;
  let line = 1;
  while (position < text.length) {
    const start = line;
    const fields: string[] = [];
    let lineEnded = false;
    // An empty line holds no field at all: skip it rather than yield a record of one empty field.
    if (text[position] === CR || text[position] === LF) {
      position = afterLineEnd(text, position);
      line += 1;
      continue;
    }
    while (!lineEnded) {
      let field = '';
      if (text[position] === QUOTE) {
        const opened = line;
        position += 1;
        for (;;) {
          const quote = text.indexOf(QUOTE, position);
          if (quote < 0) throw new CsvFormatError('a quoted field is never closed', opened);
          const chunk = text.slice(position, quote);
          field += chunk;
          line += countLineBreaks(chunk);
          if (text[quote + 1] === QUOTE) {
            field += QUOTE;
            position = quote + 2;
          } else {
            position = quote + 1;
            break;
          }
        }
        const next = text[position];
        if (next !== undefined && next !== COMMA && next !== CR && next !== LF) {
          throw new CsvFormatError('text follows a closing quote; write a quote inside a field as ""', line);
        }
      } else {
        const end = unquotedEnd(text, position);
        field = text.slice(position, end);
        position = end;
      }
      fields.push(field);
      if (text[position] === COMMA) {
        position += 1;
      } else {
        lineEnded = true;
        if (position < text.length) {
          position = afterLineEnd(text, position);
          line += 1;
        }
      }
    }
    yield { line: start, fields };
  }
}

/** All records at once. */
export function readCsv(text: string): CsvRecord[] {
  return [...csvRecords(text)];
}

function unquotedEnd(text: string, from: number): number {
  for (let index = from; index < text.length; index += 1) {
    const char = text[index];
    if (char === COMMA || char === CR || char === LF) return index;
  }
  return text.length;
}

/** Past one line end: CRLF counts as one, as does a lone CR or LF. */
function afterLineEnd(text: string, at: number): number {
  return text[at] === CR && text[at + 1] === LF ? at + 2 : at + 1;
}

function countLineBreaks(chunk: string): number {
  let count = 0;
  for (let index = 0; index < chunk.length; index += 1) {
    const char = chunk[index];
    if (char === LF || (char === CR && chunk[index + 1] !== LF)) count += 1;
  }
  return count;
}
