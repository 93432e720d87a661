/**
 * CSV as RFC 4180 writes it (comma separated, CRLF line ends, fields with quotes, commas or line
 * breaks quoted, quotes doubled), made safe to open in a spreadsheet: a text cell starting with
 * `=`, `+`, `-`, `@`, TAB or CR would be read as a formula (CSV injection), so it gets a leading
 * `'`. Numbers are written as they are; `-5` is a number, not a formula.
 */
export type CsvValue = string | number | boolean | null | undefined;

export const CSV_LINE_END = '\r\n';

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell: `null`/`undefined` → empty, formula-like text → `'`-prefixed, then quoted if needed. */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, without its line end. */
export function csvLine(values: readonly CsvValue[]): string {
  return values.map(csvCell).join(',');
}

/** A whole file: the header, then one line per row, each ended by CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map((values) => csvLine(values) + CSV_LINE_END).join('');
}
