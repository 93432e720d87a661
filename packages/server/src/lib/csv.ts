import { stringify, type Options } from 'csv-stringify/sync';

/**
 * CSV as RFC 4180 writes it (comma separated, CRLF line ends, fields with quotes, commas or line
 * breaks quoted, quotes doubled), made safe to open in a spreadsheet: a text cell starting with
 * `=`, `+`, `-`, `@`, TAB or CR (or their full-width forms) would be read as a formula (CSV
 * injection), so it gets a leading `'`. Numbers are written as they are; `-5` is a number, not a
 * formula. csv-stringify writes it; the reader is csv-reader.ts.
 */
export type CsvValue = string | number | boolean | null | undefined;

export const CSV_LINE_END = '\r\n';

const DIALECT: Options = {
  record_delimiter: CSV_LINE_END,
  // Quote a cell with any line break, not only CRLF: a lone LF or CR would split the record too.
  quote_record_delimiter: true,
  escape_formulas: true,
  // csv-stringify writes `true` as `1` and `false` as nothing by default.
  cast: { boolean: String },
};

/** One record, without its line end. */
export function csvLine(values: readonly CsvValue[]): string {
  return stringify([values], { ...DIALECT, eof: false });
}

/** A whole file: the header, then one line per row, each ended by CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return stringify([header, ...rows], DIALECT);
}
