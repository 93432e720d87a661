/** The query of `GET /v1/requests`: search, filters, order and paging of rights requests. */
import { Type, type Static } from 'typebox';
import { REQUEST_DUE_WINDOWS, REQUEST_TYPES } from './choices.js';
import { Id, Literals, QueryInteger } from './common.js';

const strict = { additionalProperties: false } as const;

/** How a list of requests may be ordered; a leading `-` reverses (`-due`: latest due first). */
export const REQUEST_SORTS = [
  'due',
  '-due',
  'created',
  '-created',
  'received',
  '-received',
  'status',
  '-status',
] as const;
export type RequestSort = (typeof REQUEST_SORTS)[number];
/** Requests a list skips at most (`offset`): past it, narrow the filter instead. */
export const REQUEST_LIST_MAX_OFFSET = 100_000;

const DueBound = Type.String({
  maxLength: 40,
  description: 'an ISO 8601 instant with a zone, or a day (YYYY-MM-DD, its start in UTC)',
});

export const RequestListQuery = Type.Object(
  {
    /** One status or several, comma-separated. */
    status: Type.Optional(Type.String()),
    type: Type.Optional(Literals(REQUEST_TYPES)),
    /** Requests whose id starts with this text. */
    q: Type.Optional(Id(200)),
    due: Type.Optional(Literals(REQUEST_DUE_WINDOWS)),
    /** Due strictly before this instant or day. */
    dueBefore: Type.Optional(DueBound),
    /** Due at or after this instant or day. */
    dueAfter: Type.Optional(DueBound),
    /** Same as `due=overdue` (kept for older clients). */
    overdue: Type.Optional(Type.Boolean()),
    sort: Type.Optional(Literals(REQUEST_SORTS)),
    limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 500 })),
    /** Skip this many (page numbers); `cursor` instead walks the default order (`-received`). */
    offset: Type.Optional(QueryInteger({ minimum: 0, maximum: REQUEST_LIST_MAX_OFFSET })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
  },
  strict,
);
export type RequestListQuery = Static<typeof RequestListQuery>;
