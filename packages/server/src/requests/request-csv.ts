/**
 * The inbound requests table (DESIGN.md §6): a CSV file with one rights request per row, as
 * privacy teams keep them in spreadsheets. A header names the columns, in any order and case:
 *
 *   id, type, strategy, email, phone, address, address2, city, state, postal, country,
 *   custom_key, custom_key_2, custom_key_3, subject, jurisdiction, received_at
 *
 * (`-` may stand for `_`, so `custom-key-2` works too). A bad row is reported and the others are
 * still read; a file whose shape is wrong throws CsvFormatError.
 */
import {
  ADDRESS_PARTS,
  JURISDICTIONS,
  REQUEST_STRATEGIES,
  REQUEST_TYPES,
  RequestIdParams,
  type ErrorCode,
  type Identifiers,
  type Jurisdiction,
  type RequestStrategy,
  type RequestType,
} from '@lethe/api';
import { CsvFormatError, csvRecords } from '../lib/csv-reader.js';
import { stringOptions } from '../lib/string-options.js';
import { IdentifierError, normaliseIdentifiers, type CountryCode } from './identifiers.js';
import { parseInstant, toIso } from '../lib/time.js';

export interface ParsedRequest {
  readonly id?: string;
  readonly type: RequestType;
  readonly strategy: RequestStrategy;
  /** Normalised with normaliseIdentifiers. */
  readonly identifiers: Identifiers;
  readonly jurisdiction?: Jurisdiction;
  /** Epoch ms. */
  readonly receivedAt?: number;
}

export interface RequestCsvRow {
  /** The physical line the row starts on. */
  readonly line: number;
  readonly request: ParsedRequest;
}

export interface RequestCsvError {
  readonly line: number;
  /** The column as the canonical name (`custom_key_2`), when one column is to blame. */
  readonly column?: string;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface RequestCsvResult {
  readonly rows: RequestCsvRow[];
  readonly errors: RequestCsvError[];
}

export interface RequestCsvOptions {
  /** The country of phone numbers written without a `+` country code. */
  readonly defaultCountry?: CountryCode;
  /** Most data rows a file may hold (blank rows do not count); 10,000 unless given. */
  readonly maxRows?: number;
  /** When given, a `received_at` later than this is refused. */
  readonly now?: number;
}

// The one error a file-level problem throws, re-exported so importers need only this module.
export { CsvFormatError };

export const DEFAULT_MAX_CSV_ROWS = 10_000;

const EXACT_COLUMNS = {
  subject: 'subject',
  custom_key: 'customKey',
  custom_key_2: 'customKey2',
  custom_key_3: 'customKey3',
} as const satisfies Record<string, keyof Identifiers>;
type ExactColumn = keyof typeof EXACT_COLUMNS;
type ExactKey = (typeof EXACT_COLUMNS)[ExactColumn];
const COLUMNS = [
  'id',
  'type',
  'strategy',
  'email',
  'phone',
  ...ADDRESS_PARTS,
  ...(Object.keys(EXACT_COLUMNS) as ExactColumn[]),
  'jurisdiction',
  'received_at',
] as const;
type Column = (typeof COLUMNS)[number];
const IDENTIFIER_COLUMNS: readonly Column[] = [
  'email',
  'phone',
  'address',
  'subject',
  'custom_key',
  'custom_key_2',
  'custom_key_3',
];

// Amperity's name for the connected strategy.
/** A request id is a name, as the API's `/v1/requests/{id}` takes it: else no route could reach it. */
const REQUEST_ID = new RegExp(stringOptions(RequestIdParams.properties.id).pattern ?? '');

const STRATEGY_ALIASES: ReadonlyMap<string, RequestStrategy> = new Map([['connected_pii', 'connected']]);

/**
 * Reads the inbound requests table. Row errors (`INVALID_REQUEST_TYPE`, `INVALID_STRATEGY`,
 * `INVALID_IDENTIFIER`, `IDENTIFIER_MISSING`, `INVALID_JURISDICTION`, `INVALID_TIME`,
 * `DUPLICATE_ID`, `CSV_INVALID` for a row with more cells than the header) leave that row out and
 * the rest in. Throws CsvFormatError, and nothing else, for a file without a header, with an
 * unknown or repeated column, with no `type` or identifier column, with a quote never closed, or
 * with more than `maxRows` rows.
 *
 * @example parseRequestCsv('type,email\ndelete,ann@example.com\n', {}).rows[0]?.request.identifiers
 */
export function parseRequestCsv(text: string, options: RequestCsvOptions = {}): RequestCsvResult {
  const maxRows = options.maxRows ?? DEFAULT_MAX_CSV_ROWS;
  const records = csvRecords(text);
  const first = records.next();
  if (first.done) throw new CsvFormatError('the file is empty; it needs a header row', 1);
  const header = readHeader(first.value.fields, first.value.line);

  const rows: RequestCsvRow[] = [];
  const errors: RequestCsvError[] = [];
  const idLines = new Map<string, number>();
  let rowCount = 0;
  for (const record of records) {
    if (record.fields.every((field) => field.trim() === '')) continue;
    rowCount += 1;
    if (rowCount > maxRows) {
      throw new CsvFormatError(`the file holds more than ${maxRows} rows; split it`, record.line);
    }
    const rowErrors: Omit<RequestCsvError, 'line'>[] = [];
    const request = readRow(header, record.fields, options, idLines, record.line, rowErrors);
    if (request && rowErrors.length === 0) rows.push({ line: record.line, request });
    errors.push(...rowErrors.map((error) => ({ line: record.line, ...error })));
  }
  return { rows, errors };
}

function readHeader(names: readonly string[], line: number): Column[] {
  const header: Column[] = [];
  names.forEach((name, index) => {
    const column = name.trim().toLowerCase().replaceAll('-', '_');
    if (column === '') throw new CsvFormatError(`column ${index + 1} of the header has no name`, line);
    if (!isColumn(column)) {
      throw new CsvFormatError(
        `unknown column "${name.trim()}"; the columns are ${COLUMNS.join(', ')}`,
        line,
      );
    }
    if (header.includes(column)) throw new CsvFormatError(`the column "${column}" appears twice`, line);
    header.push(column);
  });
  if (!header.includes('type')) throw new CsvFormatError('the header has no "type" column', line);
  if (!header.some((column) => IDENTIFIER_COLUMNS.includes(column))) {
    throw new CsvFormatError(
      `the header names no identifier column (${IDENTIFIER_COLUMNS.join(', ')})`,
      line,
    );
  }
  return header;
}

function readRow(
  header: readonly Column[],
  fields: readonly string[],
  options: RequestCsvOptions,
  idLines: Map<string, number>,
  line: number,
  errors: Omit<RequestCsvError, 'line'>[],
): ParsedRequest | undefined {
  if (fields.length > header.length) {
    errors.push({
      code: 'CSV_INVALID',
      message: `the row has ${fields.length} cells but the header only ${header.length}`,
    });
    return undefined;
  }
  // Cells that hold only spaces count as empty: spreadsheets leave them behind.
  const cells = new Map<Column, string>();
  header.forEach((column, index) => {
    const value = fields[index];
    if (value !== undefined && value.trim() !== '') cells.set(column, value);
  });
  const text = (column: Column) => cells.get(column)?.trim();

  const id = text('id');
  if (id !== undefined && !REQUEST_ID.test(id)) {
    errors.push({
      column: 'id',
      code: 'VALIDATION_FAILED',
      message: `the id "${id}" must be up to 128 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    });
  } else if (id !== undefined) {
    const firstLine = idLines.get(id);
    if (firstLine === undefined) idLines.set(id, line);
    else
      errors.push({
        column: 'id',
        code: 'DUPLICATE_ID',
        message: `the id "${id}" is also on line ${firstLine}`,
      });
  }

  const typeText = text('type')?.toLowerCase();
  const type = REQUEST_TYPES.find((candidate) => candidate === typeText);
  if (!type) {
    errors.push({
      column: 'type',
      code: 'INVALID_REQUEST_TYPE',
      message:
        typeText === undefined
          ? `the type is required: ${REQUEST_TYPES.join(', ')}`
          : `"${typeText}" is not a request type: ${REQUEST_TYPES.join(', ')}`,
    });
  }

  const strategyText = text('strategy')?.toLowerCase() ?? 'exact';
  const strategy =
    REQUEST_STRATEGIES.find((candidate) => candidate === strategyText) ?? STRATEGY_ALIASES.get(strategyText);
  if (!strategy) {
    errors.push({
      column: 'strategy',
      code: 'INVALID_STRATEGY',
      message: `"${strategyText}" is not a strategy: ${REQUEST_STRATEGIES.join(', ')} (or connected_pii)`,
    });
  }

  const identifiers = readIdentifiers(cells, options.defaultCountry, errors);

  const jurisdictionText = text('jurisdiction')?.toLowerCase();
  const jurisdiction = JURISDICTIONS.find((candidate) => candidate === jurisdictionText);
  if (jurisdictionText !== undefined && !jurisdiction) {
    errors.push({
      column: 'jurisdiction',
      code: 'INVALID_JURISDICTION',
      message: `"${jurisdictionText}" is not a jurisdiction: ${JURISDICTIONS.join(', ')}`,
    });
  }

  const receivedText = text('received_at');
  const receivedAt = receivedText === undefined ? undefined : parseInstant(receivedText);
  if (receivedText !== undefined) {
    if (receivedAt === undefined) {
      errors.push({
        column: 'received_at',
        code: 'INVALID_TIME',
        message: `"${receivedText}" is not an ISO 8601 instant with a zone, such as 2026-01-31T09:00:00Z`,
      });
    } else if (options.now !== undefined && receivedAt > options.now) {
      errors.push({
        column: 'received_at',
        code: 'INVALID_TIME',
        message: `${toIso(receivedAt)} lies in the future`,
      });
    }
  }

  if (!type || !strategy || !identifiers) return undefined;
  return {
    ...(id === undefined ? {} : { id }),
    type,
    strategy,
    identifiers,
    ...(jurisdiction === undefined ? {} : { jurisdiction }),
    ...(receivedAt === undefined ? {} : { receivedAt }),
  };
}

function readIdentifiers(
  cells: ReadonlyMap<Column, string>,
  defaultCountry: CountryCode | undefined,
  errors: Omit<RequestCsvError, 'line'>[],
): Identifiers | undefined {
  const input: Identifiers = {};
  // Subject ids and custom keys are opaque and kept exactly, spaces and all.
  for (const [column, key] of Object.entries(EXACT_COLUMNS) as [ExactColumn, ExactKey][]) {
    const value = cells.get(column);
    if (value !== undefined) input[key] = value;
  }
  const email = cells.get('email');
  if (email !== undefined) input.email = email;
  const phone = cells.get('phone');
  if (phone !== undefined) input.phone = phone;
  if (ADDRESS_PARTS.some((part) => cells.has(part))) {
    // Without its `address` the group is incomplete: normalisation rejects `address: ''`.
    input.address = { address: cells.get('address') ?? '' };
    for (const part of ADDRESS_PARTS) {
      const value = cells.get(part);
      if (value !== undefined) input.address[part] = value;
    }
  }
  try {
    return normaliseIdentifiers(input, { ...(defaultCountry ? { defaultCountry } : {}) });
  } catch (error) {
    if (!(error instanceof IdentifierError)) throw error;
    errors.push({
      ...(error.code === 'IDENTIFIER_MISSING' ? {} : { column: columnOf(error.field) }),
      code: error.code,
      message:
        error.code === 'IDENTIFIER_MISSING'
          ? `the row has no identifier: fill one of ${IDENTIFIER_COLUMNS.join(', ')}`
          : `${columnOf(error.field)} ${error.reason}`,
    });
    return undefined;
  }
}

/** `address.city` → `city`, `customKey2` → `custom_key_2`. */
function columnOf(field: string): string {
  const exact = Object.entries(EXACT_COLUMNS).find(([, key]) => key === field);
  if (exact) return exact[0];
  return field.startsWith('address.') ? field.slice('address.'.length) : field;
}

function isColumn(name: string): name is Column {
  return (COLUMNS as readonly string[]).includes(name);
}
