import type { RightsRequestRow } from '../requests/request-tables.js';
import { toIso } from '../lib/time.js';

/** What a request event says: ids and dates, never the person's identifiers. */
export function requestEventData(request: RightsRequestRow): Record<string, unknown> {
  return {
    request: request.id,
    type: request.type,
    status: request.status,
    dueAt: toIso(request.due_at),
    link: `/v1/requests/${encodeURIComponent(request.id)}`,
  };
}
