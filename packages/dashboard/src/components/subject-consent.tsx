import type { ConsentRecord, ConsentViolationPage, SubjectConsent } from '@lethe/api';
import { shortenTcString } from '../consent.js';
import { dayOf, minuteOf } from '../format.js';
import { useApi, type Loaded } from '../use-api.js';
import { Show } from './status.js';
import { TableScroll } from './table-scroll.js';

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
            <TableScroll label="Uses without consent table">
              <table data-testid="subject-violations">
                <thead>
                  <tr>
                    <th scope="col">Policy</th>
                    <th scope="col">System</th>
                    <th scope="col">Purpose</th>
                    <th scope="col">First</th>
                    <th scope="col">Latest</th>
                    <th scope="col">Uses</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((item) => (
                    <tr key={`${item.policy}/${item.system}`}>
                      <td>{item.policy}</td>
                      <td>{item.system}</td>
                      <td>{item.purpose}</td>
                      <td className="day">{dayOf(item.firstAt)}</td>
                      <td className="day">{dayOf(item.lastAt)}</td>
                      <td className="number">{item.count}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
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

function ConsentHistory({ history }: { history: readonly ConsentRecord[] }) {
  return (
    <TableScroll label="Consent history table">
      <table data-testid="consent-history">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Purpose</th>
            <th scope="col">Choice</th>
            <th scope="col">Source</th>
            <th scope="col">Method</th>
            <th scope="col">Channel</th>
            <th scope="col">Notice</th>
            <th scope="col">URL</th>
            <th scope="col">Recorded by</th>
            <th scope="col">TC string</th>
          </tr>
        </thead>
        <tbody>
          {history.map((record) => (
            <tr key={record.id}>
              <td>{minuteOf(record.at)}</td>
              <td>
                <code>{record.purpose}</code>
              </td>
              <td>{record.granted ? 'granted' : 'withdrawn'}</td>
              <td>{record.source ?? '—'}</td>
              <td>{record.method ?? '—'}</td>
              <td>{record.channel ?? '—'}</td>
              {/* Shown as text, not links: these come from whoever recorded the consent. */}
              <td className="proof-text">
                {record.notice ?? '—'}
                {record.noticeVersion ? (
                  <span className="muted"> (version {record.noticeVersion})</span>
                ) : null}
              </td>
              <td className="proof-text">{record.url ?? '—'}</td>
              <td>
                {record.recordedBy.id} <span className="muted">({record.recordedBy.role})</span>
                <br />
                <span className="muted">{minuteOf(record.recordedAt)}</span>
              </td>
              <td>{record.tcString ? <TcString text={record.tcString} /> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
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
