import type { Overview } from '@lethe/api';
import { ConsentViolationsPanel } from '../components/consent-violations-panel.js';
import { ExpiryChart } from '../components/expiry-chart.js';
import { Page } from '../components/page.js';
import { ReappearancesPanel } from '../components/reappearances-panel.js';
import { Show } from '../components/status.js';
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
        <ReappearancesPanel />
        <ConsentViolationsPanel />
      </div>
    </Page>
  );
}
