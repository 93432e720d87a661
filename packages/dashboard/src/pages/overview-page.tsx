import type { Overview } from '@lethe/api';
import { ConsentViolationsPanel } from '../components/consent-violations-panel.js';
import { ExpiryChart } from '../components/expiry-chart.js';
import { OverdueCards } from '../components/overdue-cards.js';
import { Page } from '../components/page.js';
import { ReappearancesPanel } from '../components/reappearances-panel.js';
import { Show } from '../components/status.js';
import { useSessionView } from '../session-context.js';
import { useApi } from '../use-api.js';

type Counts = NonNullable<Overview['counts']>;

const COUNTS: readonly { key: keyof Counts; label: string }[] = [
  { key: 'subjects', label: 'Subjects' },
  { key: 'fields', label: 'Fields' },
  { key: 'systems', label: 'Systems' },
  { key: 'openRequests', label: 'Open requests' },
];

/** What is late comes first (cards that link to the filtered lists), then how much Lethe holds. */
export function OverviewPage() {
  const overview = useApi<Overview>('/v1/overview');
  const session = useSessionView();
  const may = (action: string) => session.state === 'ready' && session.data.actions.includes(action);
  return (
    <Page title="Overview">
      <Show loaded={overview} what="the overview">
        {(data) => (
          <>
            <OverdueCards overview={data} />
            {data.counts ? <HeldCounts counts={data.counts} /> : null}
            <h2>Expiries, next {data.expiriesPerDay.length} days</h2>
            <ExpiryChart days={data.expiriesPerDay} />
          </>
        )}
      </Show>
      <div className="side-by-side">
        {may('subjects:read') ? <ReappearancesPanel /> : null}
        {may('consent:read') ? <ConsentViolationsPanel /> : null}
      </div>
    </Page>
  );
}

function HeldCounts({ counts }: { counts: Counts }) {
  return (
    <ul className="counts" aria-label="What Lethe holds">
      {COUNTS.map((count) => (
        <li key={count.key}>
          <span className="count" data-count={count.key}>
            {counts[count.key].toLocaleString()}
          </span>
          <span className="label">{count.label}</span>
        </li>
      ))}
    </ul>
  );
}
