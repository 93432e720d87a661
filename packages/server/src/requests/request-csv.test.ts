import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvFormatError, parseRequestCsv, type RequestCsvOptions } from './request-csv.js';

const csv = (...lines: string[]) => lines.map((line) => `${line}\r\n`).join('');

const failure = (text: string, options: RequestCsvOptions = {}): CsvFormatError => {
  try {
    parseRequestCsv(text, options);
  } catch (error) {
    if (error instanceof CsvFormatError) return error;
    throw error;
  }
  throw new Error('expected a CsvFormatError');
};

/** The one error of a file whose only data row is `row` under `header`. */
const rowError = (header: string, row: string, options: RequestCsvOptions = {}) => {
  const { rows, errors } = parseRequestCsv(csv(header, row), options);
  expect(rows).toEqual([]);
  expect(errors).toHaveLength(1);
  return errors[0];
};

describe('parseRequestCsv: good rows', () => {
  it('reads every column and normalises the identifiers', () => {
    const { rows, errors } = parseRequestCsv(
      csv(
        'id,type,strategy,email,phone,address,address2,city,state,postal,country,custom_key,custom_key_2,custom_key_3,subject,jurisdiction,received_at',
        'r-1,DSAR,connected_pii, Ann@Example.com ,020 7946 0018,"10  Downing St",,London,, SW1A 2AA ,gb, K1 ,k2,k3,User-9,GDPR,2026-01-31T09:00:00Z',
      ),
      { defaultCountry: 'GB' },
    );
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      {
        line: 2,
        request: {
          id: 'r-1',
          type: 'dsar',
          strategy: 'connected',
          identifiers: {
            email: 'ann@example.com',
            phone: '+442079460018',
            address: { address: '10 Downing St', city: 'London', postal: 'SW1A 2AA', country: 'GB' },
            // Custom keys and subject ids are opaque: kept exactly, spaces included.
            customKey: ' K1 ',
            customKey2: 'k2',
            customKey3: 'k3',
            subject: 'User-9',
          },
          jurisdiction: 'gdpr',
          receivedAt: Date.parse('2026-01-31T09:00:00Z'),
        },
      },
    ]);
  });

  it('takes columns in any order and case, hyphen forms included, and defaults the strategy', () => {
    const { rows, errors } = parseRequestCsv(
      csv('Custom-Key-2, EMAIL ,Type', 'abc,,delete_pii', ',bob@example.com,delete'),
    );
    expect(errors).toEqual([]);
    expect(rows.map((row) => row.request)).toEqual([
      { type: 'delete_pii', strategy: 'exact', identifiers: { customKey2: 'abc' } },
      { type: 'delete', strategy: 'exact', identifiers: { email: 'bob@example.com' } },
    ]);
  });

  it('reads quoted cells with commas, quotes and line breaks, and counts physical lines', () => {
    const text =
      '\uFEFFtype,email,address,city\r\n' +
      'delete,a@example.com,"Flat 1, ""The Oaks""\r\n12 High St",Leeds\r\n' +
      '\r\n' +
      'dsar,b@example.com,,\n';
    const { rows, errors } = parseRequestCsv(text);
    expect(errors).toEqual([]);
    expect(rows.map((row) => row.line)).toEqual([2, 5]);
    expect(rows[0]?.request.identifiers.address).toEqual({
      address: 'Flat 1, "The Oaks" 12 High St',
      city: 'Leeds',
    });
  });

  it('skips blank lines and rows of empty cells, and takes short rows as empty at the end', () => {
    const { rows, errors } = parseRequestCsv(
      csv('type,email,phone', ',,', '  , ,', 'delete,a@example.com', ''),
    );
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      { line: 4, request: { type: 'delete', strategy: 'exact', identifiers: { email: 'a@example.com' } } },
    ]);
  });
});

describe('parseRequestCsv: row errors', () => {
  it.each([
    ['type,email', 'erase,a@example.com', 'INVALID_REQUEST_TYPE', 'type'],
    ['type,email', ',a@example.com', 'INVALID_REQUEST_TYPE', 'type'],
    ['type,strategy,email', 'delete,fuzzy,a@example.com', 'INVALID_STRATEGY', 'strategy'],
    ['type,email', 'delete,not-an-email', 'INVALID_IDENTIFIER', 'email'],
    ['type,phone', 'delete,12', 'INVALID_IDENTIFIER', 'phone'],
    // An address part without the address line itself.
    ['type,address,city', 'delete,,London', 'INVALID_IDENTIFIER', 'address'],
    ['type,email,jurisdiction', 'delete,a@example.com,hipaa', 'INVALID_JURISDICTION', 'jurisdiction'],
    ['type,email,received_at', 'delete,a@example.com,31/01/2026', 'INVALID_TIME', 'received_at'],
    ['type,email,received_at', 'delete,a@example.com,2026-01-31T09:00:00', 'INVALID_TIME', 'received_at'],
  ])('%s / %s → %s', (header, row, code, column) => {
    expect(rowError(header, row)).toMatchObject({ line: 2, code, column });
  });

  it('reports a row with no identifier', () => {
    expect(rowError('type,email,phone', 'delete,,')).toMatchObject({ line: 2, code: 'IDENTIFIER_MISSING' });
  });

  it('uses the default country for national phone numbers', () => {
    expect(rowError('type,phone', 'delete,020 7946 0018')).toMatchObject({ code: 'INVALID_IDENTIFIER' });
    expect(
      parseRequestCsv(csv('type,phone', 'delete,020 7946 0018'), { defaultCountry: 'GB' }).errors,
    ).toEqual([]);
  });

  it('refuses a received_at in the future when told the time', () => {
    const now = Date.parse('2026-03-01T00:00:00Z');
    expect(
      rowError('type,email,received_at', 'delete,a@example.com,2026-03-02T00:00:00Z', { now }),
    ).toMatchObject({
      code: 'INVALID_TIME',
    });
  });

  it('reports an id seen before in the file, on the later row', () => {
    const { rows, errors } = parseRequestCsv(
      csv(
        'id,type,email',
        'r-1,delete,a@example.com',
        'r-2,delete,b@example.com',
        ' r-1 ,dsar,c@example.com',
      ),
    );
    expect(rows.map((row) => row.request.id)).toEqual(['r-1', 'r-2']);
    expect(errors).toEqual([
      { line: 4, column: 'id', code: 'DUPLICATE_ID', message: 'the id "r-1" is also on line 2' },
    ]);
  });

  it('reports a row with more cells than the header', () => {
    expect(rowError('type,email', 'delete,a@example.com,extra')).toMatchObject({
      line: 2,
      code: 'CSV_INVALID',
    });
  });

  it('reports every problem of a row, and keeps reading the rows after it', () => {
    const { rows, errors } = parseRequestCsv(
      csv('type,strategy,email,jurisdiction', 'nuke,fuzzy,bad,mars', 'delete,,ok@example.com,'),
    );
    expect(errors.map((error) => [error.line, error.code])).toEqual([
      [2, 'INVALID_REQUEST_TYPE'],
      [2, 'INVALID_STRATEGY'],
      [2, 'INVALID_IDENTIFIER'],
      [2, 'INVALID_JURISDICTION'],
    ]);
    expect(rows.map((row) => row.line)).toEqual([3]);
  });
});

describe('parseRequestCsv: file errors', () => {
  it.each([
    ['an empty file', '', 1, /empty/],
    ['only blank lines', '\r\n\r\n', 1, /empty/],
    ['an unknown column', csv('type,email,favourite_colour'), 1, /unknown column "favourite_colour"/],
    ['a column twice', csv('type,email,EMAIL'), 1, /"email" appears twice/],
    ['a nameless column', csv('type,email,'), 1, /column 3 of the header has no name/],
    ['no type column', csv('email,phone', 'a@example.com,'), 1, /no "type" column/],
    ['no identifier column', csv('id,type', '1,delete'), 1, /no identifier column/],
    ['a header after blank lines', '\n\ntype,mail\n', 3, /unknown column "mail"/],
    [
      'a quote never closed',
      csv('type,email', 'delete,a@example.com', 'delete,"b@example.com'),
      3,
      /never closed/,
    ],
  ])('%s', (_name, text, line, message) => {
    const error = failure(text);
    expect(error.line).toBe(line);
    expect(error.message).toMatch(message);
    expect(error.code).toBe('CSV_INVALID');
  });

  it('refuses more rows than allowed, naming the first row too many', () => {
    const text = csv(
      'type,email',
      'delete,a@example.com',
      '',
      'delete,b@example.com',
      'delete,c@example.com',
    );
    expect(parseRequestCsv(text, { maxRows: 3 }).rows).toHaveLength(3);
    expect(failure(text, { maxRows: 2 }).line).toBe(5);
  });

  it('allows 10,000 rows unless told otherwise', () => {
    const rows = Array.from({ length: 10_001 }, (_, index) => `delete,user${index}@example.com`);
    expect(failure(csv('type,email', ...rows)).line).toBe(10_002);
    expect(parseRequestCsv(csv('type,email', ...rows.slice(1))).rows).toHaveLength(10_000);
  });
});

describe('parseRequestCsv: any input', () => {
  it('throws nothing but CsvFormatError', () => {
    // Mostly headers the parser accepts, so that the rows get read; sometimes any header at all.
    const columns = ['id', 'strategy', 'phone', 'address', 'city', 'custom-key', 'subject', 'received_at'];
    const header = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.shuffledSubarray(columns).map((more) => ['type', 'email', ...more].join(',')),
      },
      {
        weight: 1,
        arbitrary: fc
          .shuffledSubarray([...columns, 'type', 'email', 'TYPE', 'colour', ''])
          .map((all) => all.join(',')),
      },
    );
    const cell = fc.oneof(
      fc.constantFrom(
        'delete',
        'dsar',
        'connected_pii',
        'a@b.c',
        '+44 20 7946 0018',
        'constructor',
        '__proto__',
      ),
      fc.string({
        unit: fc.constantFrom('"', ',', '\r', '\n', 'a', '@', ' ', '+', '1', '\uFEFF'),
        maxLength: 12,
      }),
      fc.string({ maxLength: 8, unit: 'binary' }),
    );
    const body = fc.array(
      fc.array(cell, { maxLength: 6 }).map((cells) => cells.join(',')),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(header, body, (head, lines) => {
        try {
          const { rows, errors } = parseRequestCsv([head, ...lines].join('\n'), { maxRows: 4 });
          // Plain checks: vitest's expect is slow in a loop of a thousand runs.
          return [...rows, ...errors].every((entry) => entry.line > 1);
        } catch (error) {
          return error instanceof CsvFormatError;
        }
      }),
      { numRuns: 500 },
    );
  });
});
