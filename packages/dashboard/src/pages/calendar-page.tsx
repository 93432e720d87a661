import type { ExpiryItem, ExpiryPage, Overview, System } from '@lethe/api';
import { useState, type FormEvent } from 'react';
import { callApi, downloadFromApi } from '../api.js';
import { DataTable, type Column } from '../components/data-table.js';
import { DayGrid } from '../components/day-grid.js';
import { Page } from '../components/page.js';
import { ErrorNotice, Show } from '../components/status.js';
import { SubjectId } from '../components/subject-id.js';
import { ndjsonToCsv } from '../csv.js';
import { saveBlob } from '../download.js';
import { relativeDays } from '../format.js';
import { Link, navigate, useLocation } from '../router.js';
import { useSession, useSessionView } from '../session-context.js';
import { maySeeSubjectIds } from '../subject-ids.js';
import { useAction } from '../use-action.js';
import { useApi } from '../use-api.js';
import { useTableQuery } from '../use-table-query.js';
import { localRows } from '../local-rows.js';
import {
  calendarPath,
  calendarQuery,
  feedFrom,
  PRESETS,
  rangeLabel,
  withPreset,
  type CalendarQuery,
} from './calendar-query.js';

/** The feed that answers the query: what is due now for "overdue", else the range's days. */
function feedPath(query: CalendarQuery, more: Record<string, string> = {}): string {
  const params = new URLSearchParams(more);
  if (query.system) params.set('system', query.system);
  // Everything due and not erased, on any past day, without held fields: what systems must delete.
  if (query.preset === 'overdue') return `/v1/expiries/due?${params.toString()}`;
  params.set('from', feedFrom(query));
  params.set('to', query.to);
  params.set('level', query.level);
  return `/v1/expiries?${params.toString()}`;
}

/**
 * What expires on a day or over a range, per system; the same feed systems read, as files too.
 * The query lives in the address (`?preset=` or `?from=&to=`), so a reload or a shared link shows
 * the same list and Back returns to the previous one.
 */
export function CalendarPage() {
  const query = calendarQuery(useLocation().query);
  const systems = useApi<{ items: System[] }>('/v1/systems');
  const overview = useApi<Overview>('/v1/overview');
  const go = (next: CalendarQuery) => navigate(calendarPath(next));
  return (
    <Page title="Expiry calendar">
      <nav aria-label="Presets">
        <ul className="presets">
          {PRESETS.map((preset) => (
            <li key={preset.key}>
              <Link to={calendarPath(withPreset(query, preset.key))} current={query.preset === preset.key}>
                {preset.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {overview.state === 'ready' ? (
        <DayGrid
          days={overview.data.expiriesPerDay}
          selected={query.preset === undefined && query.from === query.to ? query.from : undefined}
          onPick={(day) => go({ ...query, preset: undefined, from: day, to: day })}
        />
      ) : null}
      <QueryForm
        key={calendarPath(query)}
        query={query}
        systems={systems.state === 'ready' ? systems.data.items : []}
        onShow={go}
      />
      <h2>{rangeLabel(query)}</h2>
      <Feed key={feedPath(query)} query={query} />
    </Page>
  );
}

/**
 * The range, system and level. Keeping a preset's own days keeps the preset (so that "next 7 days"
 * stays relative to the day it is opened); other days make a fixed range.
 */
function QueryForm(props: {
  query: CalendarQuery;
  systems: readonly System[];
  onShow: (query: CalendarQuery) => void;
}) {
  const [draft, setDraft] = useState<CalendarQuery>(props.query);
  const show = (event: FormEvent) => {
    event.preventDefault();
    const { preset } = props.query;
    const sameDays = draft.from === props.query.from && draft.to === props.query.to;
    props.onShow({ ...draft, preset: sameDays ? preset : undefined });
  };
  const overdue = props.query.preset === 'overdue';
  return (
    <form className="filters" onSubmit={show} aria-label="Which expiries">
      <div>
        <label htmlFor="calendar-from">From</label>
        <input
          id="calendar-from"
          type="date"
          value={draft.from}
          required
          onChange={(event) => setDraft({ ...draft, from: event.target.value })}
        />
      </div>
      <div>
        <label htmlFor="calendar-to">To</label>
        <input
          id="calendar-to"
          type="date"
          value={draft.to}
          required
          min={draft.from}
          onChange={(event) => setDraft({ ...draft, to: event.target.value })}
        />
      </div>
      <div>
        <label htmlFor="calendar-system">System</label>
        <select
          id="calendar-system"
          value={draft.system}
          onChange={(event) => setDraft({ ...draft, system: event.target.value })}
        >
          <option value="">all</option>
          {props.systems.map((system) => (
            <option key={system.name} value={system.name}>
              {system.name}
            </option>
          ))}
        </select>
      </div>
      {overdue ? null : (
        <div>
          <label htmlFor="calendar-level">Per</label>
          <select
            id="calendar-level"
            value={draft.level}
            onChange={(event) => setDraft({ ...draft, level: event.target.value as CalendarQuery['level'] })}
          >
            <option value="field">field</option>
            <option value="subject">subject</option>
          </select>
        </div>
      )}
      {draft.preset && !overdue ? (
        <div className="checkbox">
          <input
            id="calendar-overdue"
            type="checkbox"
            checked={draft.withOverdue}
            onChange={(event) => setDraft({ ...draft, withOverdue: event.target.checked })}
          />
          <label htmlFor="calendar-overdue">Include overdue</label>
        </div>
      ) : null}
      <div className="form-actions">
        <button type="submit">Show</button>
      </div>
    </form>
  );
}

function Feed({ query }: { query: CalendarQuery }) {
  const { token } = useSession();
  const session = useSessionView();
  const linked = session.state === 'ready' && maySeeSubjectIds(session.data);
  const first = useApi<ExpiryPage>(feedPath(query, { limit: '100' }));
  const table = useTableQuery();
  const [more, setMore] = useState<ExpiryItem[]>([]);
  const [next, setNext] = useState<string>();
  const loading = useAction();
  const files = useAction();
  const cursor = next ?? (first.state === 'ready' ? first.data.next : undefined);
  const loadMore = () =>
    void loading.run(async () => {
      if (!cursor) return;
      const page = await callApi<ExpiryPage>(token, 'GET', feedPath(query, { limit: '100', cursor }));
      setMore((items) => [...items, ...page.items]);
      setNext(page.next ?? '');
    });
  const name = `expiries-${query.preset ?? `${query.from}-${query.to}`}${query.system ? `-${query.system}` : ''}`;
  const ndjson = () =>
    files.run(async () =>
      saveBlob(await downloadFromApi(token, feedPath(query), 'application/x-ndjson'), `${name}.ndjson`),
    );
  const csv = () =>
    files.run(async () => {
      const text = await (await downloadFromApi(token, feedPath(query), 'application/x-ndjson')).text();
      saveBlob(new Blob([ndjsonToCsv(text)], { type: 'text/csv' }), `${name}.csv`);
    });
  return (
    <Show loaded={first} what="the expiries">
      {(page) => {
        const items = [...page.items, ...more];
        // The server's cursor pages the feed ("Show more"); a header sorts only what is loaded.
        const sorted = localRows(items, expiryColumns(linked), {
          get: () => '',
          sort: table.sort,
          offset: 0,
          pageSize: items.length,
        }).rows;
        return (
          <>
            {query.preset === 'overdue' ? (
              // The due list is paged JSON only; the range feed is the one that streams as a file.
              <p className="muted">
                Systems read this list from <code>GET /v1/expiries/due</code>; to download it, pick a range
                with overdue included.
              </p>
            ) : (
              <div className="form-actions">
                <button
                  type="button"
                  className="secondary"
                  onClick={() => void csv()}
                  disabled={files.pending}
                >
                  Download CSV
                </button>
                <button
                  type="button"
                  className="secondary"
                  onClick={() => void ndjson()}
                  disabled={files.pending}
                >
                  Download NDJSON
                </button>
              </div>
            )}
            {files.error ? <ErrorNotice error={files.error} /> : null}
            {items.length === 0 ? (
              <p>Nothing to show: {rangeLabel(query)}.</p>
            ) : (
              <DataTable
                label="Expiries table"
                testId="expiries"
                caption={`${items.length}${cursor ? '+' : ''} expiries, ${rangeLabel(query)}`}
                columns={expiryColumns(linked)}
                rows={sorted}
                rowKey={(item) => `${item.subject}/${item.field}`}
                query={table}
                paged={false}
                empty="None."
              />
            )}
            {loading.error ? <ErrorNotice error={loading.error} /> : null}
            {cursor ? (
              <button type="button" onClick={loadMore} disabled={loading.pending}>
                {loading.pending ? 'Loading…' : 'Show more'}
              </button>
            ) : null}
          </>
        );
      }}
    </Show>
  );
}

const expiryColumns = (linked: boolean): readonly Column<ExpiryItem>[] => [
  {
    key: 'expires',
    header: 'Expires',
    cell: (item) => (
      <>
        {item.expiresAt.replace('T', ' ').slice(0, 16)}
        {item.status === 'due' ? <span className="muted"> ({relativeDays(item.expiresAt)})</span> : null}
      </>
    ),
    value: (item) => item.expiresAt,
  },
  {
    key: 'subject',
    header: 'Subject',
    cell: (item) => <SubjectId subject={item.subject} linked={linked} />,
    value: (item) => item.subject,
  },
  { key: 'field', header: 'Field', cell: (item) => <code>{item.field}</code>, value: (item) => item.field },
  {
    key: 'policy',
    header: 'Policy',
    cell: (item) => <Link to={`/policies/${encodeURIComponent(item.policy)}`}>{item.policy}</Link>,
    value: (item) => item.policy,
  },
  { key: 'system', header: 'System', cell: (item) => item.system, value: (item) => item.system },
  {
    key: 'status',
    header: 'Status',
    cell: (item) => <ExpiryStatusBadge item={item} />,
    value: (item) => item.status,
  },
];

/**
 * Where a row stands: due (act now), upcoming, or held by a legal hold (named), as the feed
 * said when it was read (docs/retention.md, "Due and upcoming").
 */
function ExpiryStatusBadge({ item }: { item: ExpiryItem }) {
  if (item.status === 'held') return <span className="badge badge-warn">held: {item.hold}</span>;
  if (item.status === 'due') return <span className="badge badge-alert">due</span>;
  return <span className="badge">upcoming</span>;
}
