import { createHash } from 'node:crypto';
import {
  TICKET_FILE_MAX_BYTES,
  TICKET_RECORDS_MAX_BYTES,
  type TicketFile,
  type TicketRecord,
} from '@lethe/api';
import { AppError } from '../lib/app-error.js';
import type { FoundRecord } from './found-record.js';
import type { RequestTaskRow } from './request-tables.js';

/** The semantic of a ticket's file among a request's records: the DSAR package lists it apart. */
export const TICKET_FILE_SEMANTIC = 'ticket-file';

/** What a ticket's file is stored as: sealed with the other findings, under the request's key. */
export interface TicketFileValues {
  readonly name: string;
  readonly contentType: string;
  readonly size: number;
  /** SHA-256 of the decoded bytes, hex: the person (or an auditor) can check the file they got. */
  readonly sha256: string;
  readonly contentBase64: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * What a person found by hand (a ticket marked done, a task done outside Lethe), as the records a
 * rights client would have returned: each record, then the file as one record of its own. The
 * records are bounded in all (`TICKET_RECORDS_TOO_LARGE`), the file by its decoded size
 * (`TICKET_FILE_TOO_LARGE`) and well-formed base64 (`INVALID_TICKET_FILE`); a file is taken for a
 * DSAR only, since an erasure keeps no values (`NOT_A_DSAR`).
 */
export function ticketFindings(
  requestType: string,
  task: RequestTaskRow,
  records: readonly TicketRecord[],
  file: TicketFile | undefined,
): FoundRecord[] {
  const size = Buffer.byteLength(JSON.stringify(records));
  if (size > TICKET_RECORDS_MAX_BYTES) {
    throw new AppError(
      'TICKET_RECORDS_TOO_LARGE',
      `The records hold ${size} bytes of JSON; at most ${TICKET_RECORDS_MAX_BYTES} are taken.`,
      { bytes: size, limit: TICKET_RECORDS_MAX_BYTES },
    );
  }
  const found: FoundRecord[] = records.map((record, index) => ({
    datasource: `${task.target}${record.dataset !== undefined ? `/${record.dataset}` : ''}`,
    pk: record.pk ?? String(index + 1),
    matchCategory: 'direct',
    semantic: 'ticket',
    semanticValue: '',
    piiColumns: Object.keys(record.fields),
    values: record.fields,
  }));
  if (file === undefined) return found;
  if (requestType !== 'dsar') {
    throw new AppError('NOT_A_DSAR', `A file is taken for a DSAR only; this request is a ${requestType}.`);
  }
  const values = decodeTicketFile(file);
  return [
    ...found,
    {
      datasource: `${task.target}/file`,
      // The file's name can name the person ("jane-doe-export.csv") and the report outlives the
      // findings' key: it names the file by its digest; the name stays sealed with the content.
      pk: `sha256:${values.sha256.slice(0, 16)}`,
      matchCategory: 'direct',
      semantic: TICKET_FILE_SEMANTIC,
      semanticValue: '',
      piiColumns: [],
      values: { ...values },
    },
  ];
}

function decodeTicketFile(file: TicketFile): TicketFileValues {
  const text = file.contentBase64.replace(/\s+/g, '');
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new AppError('INVALID_TICKET_FILE', `The file "${file.name}" is not well-formed base64.`);
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length > TICKET_FILE_MAX_BYTES) {
    throw new AppError(
      'TICKET_FILE_TOO_LARGE',
      `The file "${file.name}" holds ${bytes.length} bytes; at most ${TICKET_FILE_MAX_BYTES} are taken.`,
      { bytes: bytes.length, limit: TICKET_FILE_MAX_BYTES },
    );
  }
  if (bytes.length === 0) {
    throw new AppError('INVALID_TICKET_FILE', `The file "${file.name}" is empty.`);
  }
  return {
    name: file.name,
    contentType: file.contentType.toLowerCase(),
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    contentBase64: bytes.toString('base64'),
  };
}
