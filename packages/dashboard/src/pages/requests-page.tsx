import type { RequestDueWindow, RequestList, RightsRequest } from '@lethe/api';
import { DataTable, TableChoice, TableSearch, type Column } from '../components/data-table.js';
import { Page } from '../components/page.js';
import { Show } from '../components/status.js';
import { dayOf } from '../format.js';
import { useCan } from '../permissions.js';
import {
  OPEN_REQUEST_STATUSES,
  REQUEST_DUE_WINDOWS,
  REQUEST_STATUSES,
  REQUEST_TYPES,
  spaced,
} from '../options.js';
import { Link, navigate } from '../router.js';
import { useApi } from '../use-api.js';
import { useTableQuery, type TableQuery } from '../use-table-query.js';
import { NEW_REQUEST_PATH } from './new-request-page.js';

/** `?status=` of the page: absent is the open ones (the work list), `all` every status. */
const STATUS_CHOICES: readonly { value: string; label: string }[] = [
  { value: '', label: 'Open' },
  { value: 'all', label: 'All' },
  ...REQUEST_STATUSES.map((status) => ({ value: status, label: spaced(status) })),
];
const DUE_LABELS: Record<RequestDueWindow, string> = { overdue: 'Overdue', '7d': 'Within 7 days' };
const DUE_CHOICES = [
  { value: '', label: 'Any time' },
  ...REQUEST_DUE_WINDOWS.map((window) => ({ value: window, label: DUE_LABELS[window] })),
];

const COLUMNS: readonly Column<RightsRequest>[] = [
  {
    key: 'id',
    header: 'Request',
    cell: (request) => <Link to={`/requests/${encodeURIComponent(request.id)}`}>{request.id}</Link>,
  },
  { key: 'type', header: 'Type', cell: (request) => spaced(request.type) },
  { key: 'person', header: 'Person', cell: (request) => request.masked },
  { key: 'status', header: 'Status', cell: (request) => spaced(request.status), sortable: true },
  { key: 'received', header: 'Received', cell: (request) => dayOf(request.receivedAt), sortable: true },
  { key: 'due', header: 'Due', cell: (request) => dayOf(request.dueAt), sortable: true },
  { key: 'days-left', header: 'Days left', cell: (request) => <DaysLeft request={request} /> },
];

/**
 * The address of one page of requests (`GET /v1/requests`) for the page's own query:
 * `?status=&type=&q=&due=overdue|7d&sort=&page=` (docs/dashboard.md).
 */
function requestsPath(query: TableQuery): string {
  const status = query.get('status');
  const api = new URLSearchParams({ limit: String(query.pageSize), offset: String(query.offset) });
  if (status === '') api.set('status', OPEN_REQUEST_STATUSES.join(','));
  else if (status !== 'all') api.set('status', status);
  for (const name of ['type', 'q', 'due'] as const) {
    if (query.get(name) !== '') api.set(name, query.get(name));
  }
  if (query.sort) api.set('sort', `${query.sort.descending ? '-' : ''}${query.sort.key}`);
  return `/v1/requests?${api.toString()}`;
}

/** Rights requests with the days left to answer each: searched, sorted and paged on the server. */
export function RequestsPage() {
  const mayFile = useCan('requests:create');
  const query = useTableQuery({ sort: '-received' });
  const requests = useApi<RequestList>(requestsPath(query));
  return (
    <Page
      title="Requests"
      actions={
        mayFile ? (
          <button type="button" onClick={() => navigate(NEW_REQUEST_PATH)}>
            New request
          </button>
        ) : null
      }
    >
      <div className="table-filters">
        <TableSearch label="Request id starts with" query={query} />
        <TableChoice label="Status" name="status" choices={STATUS_CHOICES} query={query} />
        <TableChoice
          label="Type"
          name="type"
          choices={[
            { value: '', label: 'Any' },
            ...REQUEST_TYPES.map((type) => ({ value: type, label: spaced(type) })),
          ]}
          query={query}
        />
        <TableChoice label="Due" name="due" choices={DUE_CHOICES} query={query} />
      </div>
      <Show loaded={requests} what="the requests">
        {({ items, total, next }) => (
          <DataTable
            label="Requests"
            testId="requests"
            columns={COLUMNS}
            rows={items}
            rowKey={(request) => request.id}
            query={query}
            {...(total !== undefined ? { total } : {})}
            hasMore={next !== undefined}
            empty="No requests match."
          />
        )}
      </Show>
    </Page>
  );
}

export function DaysLeft({ request }: { request: RightsRequest }) {
  if (request.overdue) return <strong className="badge badge-alert">overdue {-request.daysLeft} days</strong>;
  if (request.completedAt || request.status === 'denied' || request.status === 'canceled')
    return <span className="muted">—</span>;
  return <span className={request.daysLeft <= 5 ? 'badge badge-warn' : ''}>{request.daysLeft}</span>;
}
