import type { RequestList, RightsRequest } from '@lethe/api';
import { useState } from 'react';
import { Page } from '../components/page.js';
import { Show } from '../components/status.js';
import { dayOf } from '../format.js';
import { spaced } from '../options.js';
import { useCan } from '../permissions.js';
import { Link, navigate } from '../router.js';
import { useApi } from '../use-api.js';
import { NEW_REQUEST_PATH } from './new-request-page.js';
import { TableScroll } from '../components/table-scroll.js';

const FILTERS = {
  open: { label: 'Open', query: 'status=received,identity_verified,approved,in_progress,failed' },
  overdue: { label: 'Overdue', query: 'overdue=true' },
  all: { label: 'All', query: '' },
} as const;
type Filter = keyof typeof FILTERS;

/** Rights requests with the days left to answer each, the late ones first to the eye. */
export function RequestsPage() {
  const [filter, setFilter] = useState<Filter>('open');
  const requests = useApi<RequestList>(`/v1/requests?limit=200&${FILTERS[filter].query}`);
  const mayFile = useCan('requests:create');
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
      <div className="inline-form">
        <label htmlFor="request-filter">Show</label>
        <select
          id="request-filter"
          value={filter}
          onChange={(event) => setFilter(event.target.value as Filter)}
        >
          {Object.entries(FILTERS).map(([key, { label }]) => (
            <option key={key} value={key}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <Show loaded={requests} what="the requests">
        {({ items, next }) =>
          items.length === 0 ? (
            <p>No {filter === 'all' ? '' : `${FILTERS[filter].label.toLowerCase()} `}requests.</p>
          ) : (
            <>
              <TableScroll label="Requests table">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Request</th>
                      <th scope="col">Type</th>
                      <th scope="col">Person</th>
                      <th scope="col">Status</th>
                      <th scope="col">Received</th>
                      <th scope="col">Due</th>
                      <th scope="col">Days left</th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((request) => (
                      <tr key={request.id}>
                        <td>
                          <Link to={`/requests/${encodeURIComponent(request.id)}`}>{request.id}</Link>
                        </td>
                        <td>{spaced(request.type)}</td>
                        <td>{request.masked}</td>
                        <td>{spaced(request.status)}</td>
                        <td>{dayOf(request.receivedAt)}</td>
                        <td>{dayOf(request.dueAt)}</td>
                        <td>
                          <DaysLeft request={request} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
              {next ? (
                <p className="muted">Showing the first {items.length}; narrow the filter to see others.</p>
              ) : null}
            </>
          )
        }
      </Show>
    </Page>
  );
}

export function DaysLeft({ request }: { request: RightsRequest }) {
  if (request.overdue) return <strong className="badge badge-alert">overdue {-request.daysLeft} days</strong>;
  if (request.completedAt || ['denied', 'canceled'].includes(request.status))
    return <span className="muted">—</span>;
  return <span className={request.daysLeft <= 5 ? 'badge badge-warn' : ''}>{request.daysLeft}</span>;
}
