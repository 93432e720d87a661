import type { ColumnType, Comparison } from './column-types.js';
import { LinkingValues } from './linking-values.js';

/**
 * Linking values in the type of the column they are searched in (docs/rights-requests.md, "Links
 * across column types"). A value converts only when it is exactly a value of the target type; any
 * other value can equal no value of the column, so it is dropped: it reaches nothing, and the
 * database is never asked to convert it (PostgreSQL fails the statement on `'guest-7'` against an
 * integer; MariaDB compares text with numbers as numbers, so `'02'` would equal 2).
 *
 * - to an integer: a number or numeric value without a fraction; a text only in its canonical
 *   decimal form (`String(BigInt(text)) === text`: not `'02'`, `' 2'`, `'+2'`, `'2.0'`, `'-0'`);
 *   and within the column's range;
 * - to a decimal: a number or numeric value; a text only as a canonical decimal (`2.5`, not `2.50`);
 * - to a text: a text as is; a number as its decimal form; bytes that are valid UTF-8;
 * - to a uuid: a text in the hyphenated form, either case (compared lower case);
 * - to bytes: bytes; a text or number as the UTF-8 bytes of its text;
 * - to another type (dates, booleans, enums): a value of the same declared type as is, else its
 *   text, compared with the column's text;
 * - to a SQLite column without affinity: as is.
 */
export function toColumnValue(value: unknown, from: ColumnType, to: ColumnType): unknown {
  if (value === null || value === undefined) return undefined;
  if (to.kind === 'any' || (to.kind === 'other' && sameType(from, to))) return value;
  if (value instanceof Uint8Array && to.kind === 'binary') return value;
  const source = classify(value, from);
  if (source === undefined) return undefined;
  switch (to.kind) {
    case 'integer':
      return toInteger(source, to);
    case 'decimal':
      return toDecimal(source, value, to);
    case 'uuid':
      return source.text !== undefined && UUID.test(source.text) ? source.text.toLowerCase() : undefined;
    case 'binary':
      return Buffer.from(source.text ?? source.numeral, 'utf8');
    default:
      // text, and another type compared as text
      return source.text ?? source.numeral;
  }
}

/** How values converted from `from` compare with a column of type `to`. */
export function comparison(from: ColumnType, to: ColumnType): Comparison {
  return to.kind === 'other' && !sameType(from, to) ? 'as-text' : to.kind;
}

/** `values` (of a column of type `from`) converted for a column of type `to`, each once. */
export function toColumnValues(values: Iterable<unknown>, from: ColumnType, to: ColumnType): unknown[] {
  const converted = new LinkingValues();
  for (const value of values) converted.add(toColumnValue(value, from, to));
  return converted.values();
}

/** The type of the request's own identifier values. */
export const REQUEST_TEXT: ColumnType = { kind: 'text', declared: 'text' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A numeric value as the drivers give it: a decimal numeral (`2.50`, `9223372036854775807`). */
const NUMERAL = /^-?[0-9]+(\.[0-9]+)?$/;
const CANONICAL_INTEGER = /^-?[0-9]+$/;
const CANONICAL_DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/;

/** A source value: a number (as a numeral) or a text, never both. */
type Source = { numeral: string; text?: undefined } | { text: string; numeral?: undefined };

function sameType(from: ColumnType, to: ColumnType): boolean {
  return from.kind === to.kind && from.declared === to.declared;
}

function classify(value: unknown, from: ColumnType): Source | undefined {
  if (typeof value === 'bigint') return { numeral: value.toString() };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    if (Number.isInteger(value)) return { numeral: BigInt(value).toString() };
    const text = String(value);
    return NUMERAL.test(text) ? { numeral: text } : undefined;
  }
  if (typeof value === 'string') {
    // Numeric columns come back as numerals where a JS number would round (bigint, decimal); a
    // SQLite numeric column may also hold a text that is no number.
    const numeric = from.kind === 'integer' || from.kind === 'decimal';
    return numeric && NUMERAL.test(value) ? { numeral: value } : { text: value };
  }
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const text = bytes.toString('utf8');
    return Buffer.from(text, 'utf8').equals(bytes) ? { text } : undefined;
  }
  // Dates, booleans, JSON: only to a column of their own type (above).
  return undefined;
}

function toInteger(source: Source, to: ColumnType): unknown {
  let integer: bigint;
  if (source.numeral !== undefined) {
    const [whole, fraction] = source.numeral.split('.') as [string, string | undefined];
    if (fraction !== undefined && /[^0]/.test(fraction)) return undefined;
    integer = BigInt(whole);
  } else {
    if (!CANONICAL_INTEGER.test(source.text) || String(BigInt(source.text)) !== source.text) return undefined;
    integer = BigInt(source.text);
  }
  if ((to.min !== undefined && integer < to.min) || (to.max !== undefined && integer > to.max))
    return undefined;
  return Number.isSafeInteger(Number(integer)) ? Number(integer) : integer;
}

function toDecimal(source: Source, value: unknown, to: ColumnType): unknown {
  const numeral =
    source.numeral ?? (CANONICAL_DECIMAL.test(source.text) && source.text !== '-0' ? source.text : undefined);
  if (numeral === undefined) return undefined;
  if (to.float === true && !Number.isFinite(Number(numeral))) return undefined;
  return typeof value === 'number' ? value : numeral;
}
