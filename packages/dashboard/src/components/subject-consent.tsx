import type { ConsentRecord, ConsentViolation, ConsentViolationPage, SubjectConsent } from '@lethe/api';
import { shortenTcString } from '../consent.js';
import { dayOf, minuteOf } from '../format.js';
import { useApi, type Loaded } from '../use-api.js';
import { DataTable, type Column } from './data-table.js';
import { Show } from './status.js';

/**
 * A subject's consent (docs/consent.md): the state per purpose, every grant and withdrawal with
 * what proves it (GDPR Art. 7(1)), newest first, and the uses recorded as made without it. The
 * consent (`GET /v1/subjects/{id}/consent`) is read by the subject page, which also decides from
 * it what to show for a subject without uses; a refusal of it or of the violations leaves the
 * rest of the page standing.
 */
export function SubjectConsentSection(props: {
  subject: string;
  consent: Loaded<SubjectConsent> & { reload: () => void };
}) {
  const { subject, consent } = props;
  const id = encodeURIComponent(subject);
  const violations = useApi<ConsentViolationPage>(`/v1/consent/violations?subject=${id}&limit=100`);
  return (
    <section aria-labelledby="consent-heading">
      <h2 id="consent-heading">Consent</h2>
      <Show loaded={consent} what="the consent history">
        {(data) => (
          <>
            <ConsentStates consent={data} />
            <h3>History</h3>
            {data.history.length === 0 ? (
              <p>Nothing recorded.</p>
            ) : (
              <ConsentHistory history={[...data.history].reverse()} />
            )}
          </>
        )}
      </Show>
      <h3>Uses without consent</h3>
      <Show loaded={violations} what="uses without consent">
        {(data) =>
          data.items.length === 0 ? (
            <p>None recorded.</p>
          ) : (
            <DataTable
              label="Uses without consent table"
              testId="subject-violations"
              columns={VIOLATION_COLUMNS}
              rows={data.items}
              rowKey={(item) => `${item.policy}/${item.system}`}
              empty="None recorded."
            />
          )
        }
      </Show>
    </section>
  );
}

function ConsentStates({ consent }: { consent: SubjectConsent }) {
  const purposes = Object.entries(consent.purposes).sort(([a], [b]) => a.localeCompare(b));
  if (purposes.length === 0) return <p>No consent recorded for any purpose.</p>;
  return (
    <ul className="consent-states" data-testid="consent-states">
      {purposes.map(([purpose, state]) => (
        <li key={purpose}>
          <code>{purpose}</code>{' '}
          <span className={`badge ${state.granted ? 'badge-ok' : 'badge-alert'}`}>
            {state.granted ? 'granted' : 'withdrawn'}
          </span>{' '}
          since {minuteOf(state.since)}
          {!state.granted && state.grantedAt ? (
            <span className="muted"> (granted {minuteOf(state.grantedAt)} until then)</span>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

const VIOLATION_COLUMNS: readonly Column<ConsentViolation>[] = [
  { key: 'policy', header: 'Policy', cell: (item) => item.policy },
  { key: 'system', header: 'System', cell: (item) => item.system },
  { key: 'purpose', header: 'Purpose', cell: (item) => item.purpose },
  { key: 'first', header: 'First', cell: (item) => dayOf(item.firstAt), className: 'day' },
  { key: 'latest', header: 'Latest', cell: (item) => dayOf(item.lastAt), className: 'day' },
  { key: 'uses', header: 'Uses', cell: (item) => item.count, className: 'number' },
];

const HISTORY_COLUMNS: readonly Column<ConsentRecord>[] = [
  { key: 'when', header: 'When', cell: (record) => minuteOf(record.at) },
  { key: 'purpose', header: 'Purpose', cell: (record) => <code>{record.purpose}</code> },
  { key: 'choice', header: 'Choice', cell: (record) => (record.granted ? 'granted' : 'withdrawn') },
  { key: 'source', header: 'Source', cell: (record) => record.source ?? '—' },
  { key: 'method', header: 'Method', cell: (record) => record.method ?? '—' },
  { key: 'channel', header: 'Channel', cell: (record) => record.channel ?? '—' },
  // Shown as text, not links: these come from whoever recorded the consent.
  {
    key: 'notice',
    header: 'Notice',
    className: 'proof-text',
    cell: (record) => (
      <>
        {record.notice ?? '—'}
        {record.noticeVersion ? <span className="muted"> (version {record.noticeVersion})</span> : null}
      </>
    ),
  },
  { key: 'url', header: 'URL', className: 'proof-text', cell: (record) => record.url ?? '—' },
  {
    key: 'recorded',
    header: 'Recorded by',
    cell: (record) => (
      <>
        {record.recordedBy.id} <span className="muted">({record.recordedBy.role})</span>
        <br />
        <span className="muted">{minuteOf(record.recordedAt)}</span>
      </>
    ),
  },
  {
    key: 'tc',
    header: 'TC string',
    cell: (record) => (record.tcString ? <TcString text={record.tcString} /> : '—'),
  },
];

/** Newest first, as proof is read: a plain table, neither sorted nor paged (a person has a few records). */
function ConsentHistory({ history }: { history: readonly ConsentRecord[] }) {
  return (
    <DataTable
      label="Consent history table"
      testId="consent-history"
      columns={HISTORY_COLUMNS}
      rows={history}
      rowKey={(record) => String(record.id)}
      empty="Nothing recorded."
    />
  );
}

/** The string's start in the table; the whole text one click (or Enter) away, to copy as proof. */
function TcString({ text }: { text: string }) {
  return (
    <details className="tc-string">
      <summary>
        <code>{shortenTcString(text)}</code>
      </summary>
      <code className="proof-text">{text}</code>
    </details>
  );
}
