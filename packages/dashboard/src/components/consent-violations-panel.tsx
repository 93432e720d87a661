import type { ConsentViolationPage } from '@lethe/api';
import { dayOf } from '../format.js';
import { useSessionView } from '../session-context.js';
import { maySeeSubjectIds } from '../subject-ids.js';
import { useApi } from '../use-api.js';
import { Show } from './status.js';
import { SubjectId } from './subject-id.js';
import { TableScroll } from './table-scroll.js';

export const LATEST_VIOLATIONS = 10;

/**
 * The latest uses made without the consent their policy needs (`GET /v1/consent/violations`,
 * newest first). An auditor without the subject-ids grant gets pseudonyms from the server; those
 * are shown as they come, not as links, since no subject page answers to them.
 */
export function ConsentViolationsPanel() {
  const violations = useApi<ConsentViolationPage>(`/v1/consent/violations?limit=${LATEST_VIOLATIONS}`);
  const me = useSessionView();
  return (
    <section aria-labelledby="violations-heading">
      <h2 id="violations-heading">Consent violations</h2>
      <p className="muted">
        Uses under a consent-based policy while the person had not consented (or had withdrawn): the data is
        due for deletion now.
      </p>
      <Show loaded={me} what="consent violations">
        {(session) => (
          <Show loaded={violations} what="consent violations">
            {(data) => <ViolationsTable page={data} idsShown={maySeeSubjectIds(session)} />}
          </Show>
        )}
      </Show>
    </section>
  );
}

function ViolationsTable({ page, idsShown }: { page: ConsentViolationPage; idsShown: boolean }) {
  if (page.items.length === 0) return <p>None. Every use that needs consent had it.</p>;
  return (
    <TableScroll label="Consent violations table">
      <table data-testid="violations">
        <caption className="muted">
          The latest {page.items.length}
          {page.next ? ' (more in the API)' : ''}
          {idsShown ? '' : ', pseudonymised'}
        </caption>
        <thead>
          <tr>
            <th scope="col">Subject</th>
            <th scope="col">Policy</th>
            <th scope="col">System</th>
            <th scope="col">Latest use</th>
            <th scope="col">Uses</th>
          </tr>
        </thead>
        <tbody>
          {page.items.map((item) => (
            <tr key={`${item.subject}/${item.policy}/${item.system}`}>
              <td>
                <SubjectId subject={item.subject} linked={idsShown} />
              </td>
              <td>{item.policy}</td>
              <td>{item.system}</td>
              <td className="day">{dayOf(item.lastAt)}</td>
              <td className="number">{item.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}
