import type { ExpiryItem, ExpiryPage, Overview, System } from '@lethe/api';
import { useState, type FormEvent } from 'react';
import { callApi, downloadFromApi } from '../api.js';
import { Page } from '../components/page.js';
import { ErrorNotice, Show } from '../components/status.js';
import { ndjsonToCsv } from '../csv.js';
import { saveBlob } from '../download.js';
import { useCan } from '../permissions.js';
import { useSession } from '../session-context.js';
import { useAction } from '../use-action.js';
import { useApi } from '../use-api.js';
import { TableScroll } from '../components/table-scroll.js';

const DAY_MS = 86_400_000;
const today = () => new Date().toISOString().slice(0, 10);
const daysFrom = (day: string, days: number) =>
  new Date(Date.parse(day) + days * DAY_MS).toISOString().slice(0, 10);

interface Query {
  from: string;
  to: string;
  system: string;
  level: 'field' | 'subject';
}

function feedPath(query: Query, more: Record<string, string> = {}): string {
  const params = new URLSearchParams({ from: query.from, to: query.to, level: query.level, ...more });
  if (query.system) params.set('system', query.system);
  return `/v1/expiries?${params.toString()}`;
}

/** What expires on a day or over a range, per system; the same feed systems read, as files too. */
export function CalendarPage() {
  const [draft, setDraft] = useState<Query>({
    from: today(),
    to: daysFrom(today(), 6),
    system: '',
    level: 'field',
  });
  const [query, setQuery] = useState<Query>(draft);
  const systems = useApi<{ items: System[] }>('/v1/systems');
  // The day grid counts from the overview, which a service token may not read: it goes without.
  const overview = useApi<Overview>(useCan('overview:read') ? '/v1/overview' : undefined);
  const show = (event: FormEvent) => {
    event.preventDefault();
    setQuery(draft);
  };
  const pickDay = (day: string) => {
    const next = { ...draft, from: day, to: day };
    setDraft(next);
    setQuery(next);
  };
  return (
    <Page title="Expiry calendar">
      {overview.state === 'ready' ? (
        <DayGrid overview={overview.data} selected={query} onPick={pickDay} />
      ) : null}
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
            {systems.state === 'ready'
              ? systems.data.items.map((system) => (
                  <option key={system.name} value={system.name}>
                    {system.name}
                  </option>
                ))
              : null}
          </select>
        </div>
        <div>
          <label htmlFor="calendar-level">Per</label>
          <select
            id="calendar-level"
            value={draft.level}
            onChange={(event) => setDraft({ ...draft, level: event.target.value as Query['level'] })}
          >
            <option value="field">field</option>
            <option value="subject">subject</option>
          </select>
        </div>
        <div className="form-actions">
          <button type="submit">Show</button>
        </div>
      </form>
      <Feed key={feedPath(query)} query={query} />
    </Page>
  );
}

/** The next 90 days with how many fields expire on each; a day is a button that shows that day. */
function DayGrid({
  overview,
  selected,
  onPick,
}: {
  overview: Overview;
  selected: Query;
  onPick: (day: string) => void;
}) {
  return (
    <details className="day-grid-box">
      <summary>Pick a day (next {overview.expiriesPerDay.length} days, fields expiring)</summary>
      <ol className="day-grid">
        {overview.expiriesPerDay.map((day) => (
          <li key={day.day}>
            <button
              type="button"
              className={day.fields > 0 ? 'busy' : ''}
              aria-pressed={selected.from === day.day && selected.to === day.day}
              aria-label={`${day.day}: ${day.fields} fields expire`}
              onClick={() => onPick(day.day)}
            >
              {/* The space (not shown between flex items) keeps "12-07" and "3" two words in the
                  visible text, which the name contains (WCAG 2.5.3, axe's label-content-name-mismatch). */}
              <span className="date">{day.day.slice(5)}</span> <span className="n">{day.fields}</span>
            </button>
          </li>
        ))}
      </ol>
    </details>
  );
}

function Feed({ query }: { query: Query }) {
  const { token } = useSession();
  const first = useApi<ExpiryPage>(feedPath(query, { limit: '100' }));
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
  const name = `expiries-${query.from}-${query.to}${query.system ? `-${query.system}` : ''}`;
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
        return (
          <>
            <div className="form-actions">
              <button type="button" className="secondary" onClick={() => void csv()} disabled={files.pending}>
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
            {files.error ? <ErrorNotice error={files.error} /> : null}
            {items.length === 0 ? (
              <p>
                Nothing expires{' '}
                {query.from === query.to ? `on ${query.from}` : `from ${query.from} to ${query.to}`}.
              </p>
            ) : (
              <TableScroll label="Expiries table">
                <table data-testid="expiries">
                  <caption className="muted">
                    {items.length}
                    {cursor ? '+' : ''} expiries,{' '}
                    {query.from === query.to ? query.from : `${query.from} to ${query.to}`}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Expires</th>
                      <th scope="col">Subject</th>
                      <th scope="col">Field</th>
                      <th scope="col">Policy</th>
                      <th scope="col">System</th>
                      <th scope="col">Status</th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((item) => (
                      <tr key={`${item.subject}/${item.field}`}>
                        <td>{item.expiresAt.replace('T', ' ').slice(0, 16)}</td>
                        <td>{item.subject}</td>
                        <td>
                          <code>{item.field}</code>
                        </td>
                        <td>{item.policy}</td>
                        <td>{item.system}</td>
                        <td>
                          <ExpiryStatusBadge item={item} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
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

/**
 * Where a row stands: due (act now), upcoming, or held by a legal hold (named), as the feed
 * said when it was read (docs/retention.md, "Due and upcoming").
 */
function ExpiryStatusBadge({ item }: { item: ExpiryItem }) {
  if (item.status === 'held') return <span className="badge badge-warn">held: {item.hold}</span>;
  if (item.status === 'due') return <span className="badge badge-alert">due</span>;
  return <span className="badge">upcoming</span>;
}
