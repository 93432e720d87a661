import type { RequestListQuery, RequestSort } from '@lethe/api';
import { AppError } from '../lib/app-error.js';
import { DAY_MS, parseDay, parseInstant } from '../lib/time.js';
import type { RequestListFilter, RequestListPage, RequestOrderColumn } from './request-queries.js';
import { isRequestStatus, OPEN_STATUSES, type RequestStatus } from './request-status.js';

const ORDER_COLUMNS: Record<string, RequestOrderColumn> = {
  due: 'due_at',
  created: 'created_at',
  received: 'received_at',
  status: 'status',
};
const DEFAULT_SORT: RequestSort = '-received';
export const DEFAULT_REQUEST_PAGE = 100;

/**
 * What `GET /v1/requests` asks for, as a filter and a page of the store's query; `undefined`
 * when the filter can match nothing (overdue and only final statuses). Bad values are 400s with
 * the registry's codes, never a 500.
 */
export function requestListQuery(
  query: RequestListQuery,
  now: number,
): { filter: RequestListFilter; page: RequestListPage } | undefined {
  const statuses = query.status
    ?.split(',')
    .filter((status) => status !== '')
    .map((status): RequestStatus => {
      if (isRequestStatus(status)) return status;
      throw new AppError('VALIDATION_FAILED', `Unknown status "${status}".`, { field: 'status' });
    });
  const due = query.overdue ? 'overdue' : query.due;
  let dueBefore = dueBound(query.dueBefore, 'dueBefore');
  let dueAfter = dueBound(query.dueAfter, 'dueAfter');
  let openOnly = statuses;
  if (due !== undefined) {
    // Overdue or due soon means still owed an answer: only open statuses qualify.
    const isOpen = (status: RequestStatus) => OPEN_STATUSES.includes(status);
    openOnly = (statuses ?? OPEN_STATUSES).filter(isOpen);
    if (openOnly.length === 0) return undefined;
    const windowEnd = due === 'overdue' ? now : now + 7 * DAY_MS;
    dueBefore = Math.min(dueBefore ?? windowEnd, windowEnd);
    if (due === '7d') dueAfter = Math.max(dueAfter ?? now, now);
  }
  const sort = query.sort ?? DEFAULT_SORT;
  if (query.cursor !== undefined && (sort !== DEFAULT_SORT || query.offset !== undefined)) {
    throw new AppError(
      'VALIDATION_FAILED',
      'A cursor walks the default order (-received); with `sort` or `offset`, page with `offset`.',
      { field: 'cursor' },
    );
  }
  const column = ORDER_COLUMNS[sort.replace(/^-/, '')] ?? 'received_at';
  return {
    filter: {
      ...(openOnly !== undefined ? { statuses: openOnly } : {}),
      ...(query.type !== undefined ? { types: [query.type] } : {}),
      ...(query.q !== undefined ? { idPrefix: query.q } : {}),
      ...(dueBefore !== undefined ? { dueBefore } : {}),
      ...(dueAfter !== undefined ? { dueAfter } : {}),
    },
    page: {
      order: { column, descending: sort.startsWith('-') },
      limit: query.limit ?? DEFAULT_REQUEST_PAGE,
      ...(query.offset !== undefined ? { offset: query.offset } : {}),
      ...(query.cursor !== undefined ? { after: parseListCursor(query.cursor) } : {}),
    },
  };
}

/** An instant with a zone, or a day (its start in UTC). */
function dueBound(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const at = parseInstant(text) ?? parseDay(text);
  if (at === undefined) {
    throw new AppError('INVALID_TIME', `${field}: "${text}" is neither an ISO 8601 instant nor a day.`, {
      field,
    });
  }
  return at;
}

/** The default order's keyset position: `<received_at>.<id>` of the last request shown. */
export function listCursorOf(row: { received_at: number; id: string }): string {
  return `${row.received_at}.${row.id}`;
}

function parseListCursor(cursor: string): { receivedAt: number; id: string } {
  const dot = cursor.indexOf('.');
  const receivedAt = Number(cursor.slice(0, dot));
  if (dot <= 0 || !Number.isSafeInteger(receivedAt)) {
    throw new AppError('INVALID_CURSOR', 'The cursor is not one this server issued.');
  }
  return { receivedAt, id: cursor.slice(dot + 1) };
}
