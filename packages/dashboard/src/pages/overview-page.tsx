import type { Overview, Reappearance } from '@lethe/api';
import { ConsentViolationsPanel } from '../components/consent-violations-panel.js';
import { ExpiryChart } from '../components/expiry-chart.js';
import { Page } from '../components/page.js';
import { Show } from '../components/status.js';
import { Link } from '../router.js';
import { useApi } from '../use-api.js';

const COUNTS: readonly { key: keyof Overview['counts']; label: string; link?: string }[] = [
  { key: 'subjects', label: 'Subjects', link: '/subjects' },
  { key: 'fields', label: 'Fields' },
  { key: 'systems', label: 'Systems' },
  { key: 'openRequests', label: 'Open requests' },
  { key: 'overdueRequests', label: 'Overdue requests' },
  { key: 'reappearances', label: 'Re-appearances' },
  { key: 'consentViolations', label: 'Consent violations' },
];

/** Counts that need someone to act when they are not zero. */
const ALERTS: ReadonlySet<keyof Overview['counts']> = new Set([
  'overdueRequests',
  'reappearances',
  'consentViolations',
]);

export function OverviewPage() {
  const overview = useApi<Overview>('/v1/overview');
  const reappearances = useApi<{ items: Reappearance[] }>('/v1/reappearances?limit=10');
  return (
    <Page title="Overview">
      <Show loaded={overview} what="the overview">
        {(data) => (
          <>
            <ul className="counts" aria-label="Counts">
              {COUNTS.map((count) => (
                <li
                  key={count.key}
                  className={ALERTS.has(count.key) && data.counts[count.key] > 0 ? 'alert' : ''}
                >
                  <span className="count" data-count={count.key}>
                    {data.counts[count.key].toLocaleString()}
                  </span>
                  <span className="label">{count.label}</span>
                </li>
              ))}
            </ul>
            <h2>Expiries, next {data.expiriesPerDay.length} days</h2>
            <ExpiryChart days={data.expiriesPerDay} />
          </>
        )}
      </Show>
      <div className="side-by-side">
        <section aria-labelledby="reappearances-heading">
          <h2 id="reappearances-heading">Re-appearances</h2>
          <p className="muted">
            Fields used again after a confirmed erasure: the data came back from somewhere.
          </p>
          <Show loaded={reappearances} what="re-appearances">
            {(data) =>
              data.items.length === 0 ? (
                <p>None. No erased data has been used again.</p>
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Subject</th>
                      <th scope="col">Field</th>
                      <th scope="col">System</th>
                      <th scope="col">Erased</th>
                      <th scope="col">Used again</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.items.map((item) => (
                      <tr key={`${item.subject}/${item.field}`}>
                        <td>
                          <Link to={`/subjects/${encodeURIComponent(item.subject)}`}>{item.subject}</Link>
                        </td>
                        <td>{item.field}</td>
                        <td>{item.system}</td>
                        <td>{item.erasedAt.slice(0, 10)}</td>
                        <td>{(item.reappearedAt ?? item.lastUseAt).slice(0, 10)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Show>
        </section>
        <ConsentViolationsPanel />
      </div>
    </Page>
  );
}
