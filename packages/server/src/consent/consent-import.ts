/**
 * Bulk consent import (docs/consent.md): NDJSON, one `PUT /v1/subjects/{subject}/consent` body
 * plus `subject` per line, or CSV with one purpose per row:
 *
 *   subject,purpose,granted,at,notice,notice_version,source,method,channel,url
 *   u-1,marketing.email,true,2024-01-05T10:00:00Z,https://example.com/privacy,v3,web,checkbox,web,https://example.com/signup
 *
 * A CSV row may instead carry a TC string in `tc_string` (purpose and granted then empty), or
 * both, as a PUT body may.
 *
 * A bad line is reported with its (physical, 1-based) line number and code; the others are read.
 * Purposes and times are checked by the service, against the taxonomy and the clock.
 */
import { ConsentInput, SubjectId, type ErrorCode } from '@lethe/api';
import { Type } from 'typebox';
import { CsvFormatError, csvRecords } from '../lib/csv-reader.js';
import { schemaProblem } from '../lib/id-rule.js';
import { compileCheck } from '../lib/schema-check.js';

export interface ImportedConsent {
  readonly line: number;
  readonly subject: string;
  readonly input: ConsentInput;
}

export interface ConsentImportError {
  readonly line: number;
  readonly column?: string;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface ConsentImportParse {
  readonly records: ImportedConsent[];
  readonly errors: ConsentImportError[];
}

// The one error a file-level problem throws, re-exported so importers need only this module.
export { CsvFormatError };

export const DEFAULT_MAX_IMPORT_LINES = 10_000;

const ImportLine = Type.Interface([Type.Object({ subject: SubjectId }), ConsentInput], {});
const importLine = compileCheck(Type.Object(ImportLine.properties, { additionalProperties: false }));

/** Lines beyond `maxLines` are refused as a whole (CsvFormatError), not silently dropped. */
export function parseConsentNdjson(text: string, maxLines = DEFAULT_MAX_IMPORT_LINES): ConsentImportParse {
  const records: ImportedConsent[] = [];
  const errors: ConsentImportError[] = [];
  let count = 0;
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    count += 1;
    if (count > maxLines) throw new CsvFormatError(`an import holds at most ${maxLines} records`, line);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      errors.push({ line, code: 'INVALID_JSON', message: `Line is not JSON: ${(error as Error).message}` });
      return;
    }
    if (!importLine.check(value)) {
      const message = schemaProblem(importLine.problems(value)[0], 'does not match the consent schema');
      errors.push({ line, code: 'INVALID_CONSENT', message });
      return;
    }
    const { subject, ...input } = value;
    records.push({ line, subject, input });
  });
  return { records, errors };
}

const CSV_COLUMNS = [
  'subject',
  'purpose',
  'granted',
  'at',
  'notice',
  'notice_version',
  'source',
  'method',
  'channel',
  'url',
  'tc_string',
] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];
const PROOF_COLUMNS = {
  notice: 'notice',
  notice_version: 'noticeVersion',
  source: 'source',
  method: 'method',
  channel: 'channel',
  url: 'url',
  tc_string: 'tcString',
} as const satisfies Partial<Record<CsvColumn, keyof ConsentInput>>;
const GRANTED = new Map([
  ['true', true],
  ['yes', true],
  ['1', true],
  ['granted', true],
  ['false', false],
  ['no', false],
  ['0', false],
  ['withdrawn', false],
]);

/** Throws CsvFormatError when the header lacks a required column or names an unknown one. */
export function parseConsentCsv(text: string, maxRows = DEFAULT_MAX_IMPORT_LINES): ConsentImportParse {
  const records: ImportedConsent[] = [];
  const errors: ConsentImportError[] = [];
  let columns: (CsvColumn | undefined)[] | undefined;
  let rows = 0;
  for (const record of csvRecords(text)) {
    if (!columns) {
      columns = record.fields.map((name) => {
        const column = name.trim().toLowerCase().replaceAll('-', '_');
        if (!(CSV_COLUMNS as readonly string[]).includes(column)) {
          throw new CsvFormatError(
            `unknown column "${name}"; columns are ${CSV_COLUMNS.join(', ')}`,
            record.line,
          );
        }
        return column as CsvColumn;
      });
      // Without a TC string column, every row states one purpose.
      const required = columns.includes('tc_string') ? ['subject'] : ['subject', 'purpose', 'granted'];
      for (const column of required) {
        if (!columns.includes(column as CsvColumn))
          throw new CsvFormatError(`the header lacks "${column}"`, record.line);
      }
      continue;
    }
    rows += 1;
    if (rows > maxRows) throw new CsvFormatError(`an import holds at most ${maxRows} rows`, record.line);
    const cells = new Map<CsvColumn, string>();
    columns.forEach((column, index) => {
      const value = record.fields[index]?.trim() ?? '';
      if (column && value !== '') cells.set(column, value);
    });
    const line = record.line;
    const subject = cells.get('subject');
    const purpose = cells.get('purpose');
    const grantedText = cells.get('granted');
    if (subject === undefined) {
      errors.push({ line, column: 'subject', code: 'SUBJECT_MISSING', message: 'The row names no subject.' });
      continue;
    }
    const tcString = cells.get('tc_string');
    if (purpose === undefined && tcString === undefined) {
      errors.push({
        line,
        column: 'purpose',
        code: 'CONSENT_EMPTY',
        message: 'The row names no purpose and carries no TC string.',
      });
      continue;
    }
    if (purpose === undefined && grantedText !== undefined) {
      errors.push({
        line,
        column: 'purpose',
        code: 'INVALID_CONSENT',
        message: `granted "${grantedText}" names no purpose it applies to.`,
      });
      continue;
    }
    const granted = grantedText === undefined ? undefined : GRANTED.get(grantedText.toLowerCase());
    if (purpose !== undefined && granted === undefined) {
      errors.push({
        line,
        column: 'granted',
        code: 'INVALID_CONSENT',
        message: `granted must be true or false (yes/no, 1/0, granted/withdrawn), not "${grantedText ?? ''}".`,
      });
      continue;
    }
    const input: Record<string, unknown> = purpose !== undefined ? { purposes: { [purpose]: granted } } : {};
    const at = cells.get('at');
    if (at !== undefined) input['at'] = at;
    for (const [column, key] of Object.entries(PROOF_COLUMNS)) {
      const value = cells.get(column as CsvColumn);
      if (value !== undefined) input[key] = value;
    }
    // The row as an NDJSON line would say it, checked by the same schema: the subject is an id,
    // proof texts have their limits, whichever format the file came in.
    const value = { subject, ...input };
    if (!importLine.check(value)) {
      const first = importLine.problems(value)[0];
      errors.push({
        line,
        column: csvColumnOf(first?.path ?? ''),
        code: 'INVALID_CONSENT',
        message: schemaProblem(first, 'does not match the consent schema'),
      });
      continue;
    }
    records.push({ line, subject, input });
  }
  return { records, errors };
}

/** The CSV column of a schema error's path: `/noticeVersion` is `notice_version`, `/purposes/…` `purpose`. */
function csvColumnOf(path: string): CsvColumn | undefined {
  const key = path.split('/')[1] ?? '';
  if (key === 'purposes') return 'purpose';
  const proof = Object.entries(PROOF_COLUMNS).find(([, name]) => name === key);
  return proof ? (proof[0] as CsvColumn) : CSV_COLUMNS.find((column) => column === key);
}
