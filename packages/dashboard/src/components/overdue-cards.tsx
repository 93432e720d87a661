import type { Overview, PastExpiry } from '@lethe/api';
import type { ReactNode } from 'react';
import { Link } from '../router.js';
import { DataTable, type Column } from './data-table.js';

/** The list a card opens; the requests and calendar pages read these filters from the address. */
const PAST_EXPIRY_LIST = '/calendar?preset=overdue';

/** A card's few rows, in the server's order: a plain table, neither sorted nor paged. */
const PAST_EXPIRY_COLUMNS: readonly Column<PastExpiry>[] = [
  {
    key: 'system',
    header: 'System',
    cell: (system) => (
      <Link to={`${PAST_EXPIRY_LIST}&system=${encodeURIComponent(system.system)}`}>{system.system}</Link>
    ),
  },
  { key: 'fields', header: 'Fields', cell: (system) => system.fields.toLocaleString(), className: 'number' },
  {
    key: 'people',
    header: 'People',
    cell: (system) => system.subjects.toLocaleString(),
    className: 'number',
  },
  { key: 'oldest', header: 'Oldest', cell: (system) => daysLate(system.daysLate) },
];

type CountKey = keyof NonNullable<Overview['counts']>;

/** The cards after the past-expiry one: per count, what it counts and the list it opens. */
const COUNT_CARDS: readonly {
  title: string;
  counts: readonly { key: CountKey; to: string; says: string }[];
}[] = [
  {
    title: 'Requests',
    counts: [
      { key: 'overdueRequests', to: '/requests?due=overdue', says: 'overdue' },
      { key: 'dueSoonRequests', to: '/requests?due=7d', says: 'due within 7 days' },
    ],
  },
  // Both lists are panels further down the overview today.
  {
    title: 'Re-appearances',
    counts: [
      { key: 'reappearances', to: '#reappearances-heading', says: 'fields used again after their erasure' },
    ],
  },
  {
    title: 'Consent violations',
    counts: [
      {
        key: 'consentViolations',
        to: '#violations-heading',
        says: 'uses without the consent their policy needs',
      },
    ],
  },
];

/**
 * What is late or about to be, first on the overview: fields past their expiry per system, rights
 * requests overdue or due within a week, re-appearances and consent violations. Each card links to
 * the list it counts. A token limited to a system or categories gets its past-expiry card only.
 */
export function OverdueCards({ overview }: { overview: Overview }) {
  const { counts, pastExpiry } = overview;
  return (
    <section aria-labelledby="act-now-heading">
      <h2 id="act-now-heading">Act now</h2>
      <ul className="cards">
        <PastExpiryCard systems={pastExpiry} />
        {counts
          ? COUNT_CARDS.map((card) => (
              <Card
                key={card.title}
                title={card.title}
                alert={card.counts.some(({ key }) => counts[key] > 0)}
              >
                {card.counts.map(({ key, to, says }) => (
                  <p key={key}>
                    <CountLink to={to} count={key} value={counts[key]}>
                      {says}
                    </CountLink>
                  </p>
                ))}
              </Card>
            ))
          : null}
      </ul>
    </section>
  );
}

function PastExpiryCard({ systems }: { systems: readonly PastExpiry[] }) {
  const due = systems.filter((system) => system.fields > 0);
  const fields = due.reduce((sum, system) => sum + system.fields, 0);
  const held = systems.reduce((sum, system) => sum + system.heldFields, 0);
  return (
    <Card title="Fields past expiry" alert={fields > 0} wide>
      <p>
        <CountLink to={PAST_EXPIRY_LIST} count="pastExpiryFields" value={fields}>
          subject fields to delete now
        </CountLink>
      </p>
      {due.length > 0 ? (
        <DataTable
          label="Past expiry per system"
          testId="past-expiry"
          columns={PAST_EXPIRY_COLUMNS}
          rows={due}
          rowKey={(system) => system.system}
          empty="None."
        />
      ) : null}
      <p className="muted">
        Fields under a legal hold are not due and not counted here
        {held > 0 ? ` (${held.toLocaleString()} held past their expiry)` : ''}.
      </p>
    </Card>
  );
}

function daysLate(days: number): string {
  if (days === 0) return 'due today';
  return `${days.toLocaleString()} day${days === 1 ? '' : 's'} late`;
}

function Card(props: { title: string; alert: boolean; wide?: boolean; children: ReactNode }) {
  const classes = ['card', props.alert ? 'alert' : '', props.wide ? 'wide' : ''].filter(Boolean);
  return (
    <li className={classes.join(' ')}>
      <h3>{props.title}</h3>
      {props.children}
    </li>
  );
}

/** A count and what it counts, as one link to the list (in-page anchors stay plain links). */
function CountLink(props: { to: string; count: string; value: number; children: ReactNode }) {
  const content = (
    <>
      <span className="count" data-count={props.count}>
        {props.value.toLocaleString()}
      </span>{' '}
      {props.children}
    </>
  );
  return props.to.startsWith('#') ? <a href={props.to}>{content}</a> : <Link to={props.to}>{content}</Link>;
}
