import type { Reappearance } from '@lethe/api';
import { dayOf } from '../format.js';
import { useSessionView } from '../session-context.js';
import { maySeeSubjectIds } from '../subject-ids.js';
import { useApi } from '../use-api.js';
import { Show } from './status.js';
import { SubjectId } from './subject-id.js';
import { TableScroll } from './table-scroll.js';

export const LATEST_REAPPEARANCES = 10;

/**
 * Fields used again after a confirmed erasure (`GET /v1/reappearances`). An auditor without the
 * subject-ids grant gets pseudonyms from the server; those are shown as they come, not as links.
 */
export function ReappearancesPanel() {
  const reappearances = useApi<{ items: Reappearance[]; next?: string }>(
    `/v1/reappearances?limit=${LATEST_REAPPEARANCES}`,
  );
  const me = useSessionView();
  return (
    <section aria-labelledby="reappearances-heading">
      <h2 id="reappearances-heading">Re-appearances</h2>
      <p className="muted">Fields used again after a confirmed erasure: the data came back from somewhere.</p>
      <Show loaded={me} what="re-appearances">
        {(session) => (
          <Show loaded={reappearances} what="re-appearances">
            {(data) => (
              <ReappearancesTable
                items={data.items}
                more={data.next !== undefined}
                idsShown={maySeeSubjectIds(session)}
              />
            )}
          </Show>
        )}
      </Show>
    </section>
  );
}

function ReappearancesTable(props: { items: readonly Reappearance[]; more: boolean; idsShown: boolean }) {
  const { items, more, idsShown } = props;
  if (items.length === 0) return <p>None. No erased data has been used again.</p>;
  return (
    <TableScroll label="Re-appearances table">
      <table data-testid="reappearances">
        <caption className="muted">
          The latest {items.length}
          {more ? ' (more in the API)' : ''}
          {idsShown ? '' : ', pseudonymised'}
        </caption>
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
          {items.map((item) => (
            <tr key={`${item.subject}/${item.field}`}>
              <td>
                <SubjectId subject={item.subject} linked={idsShown} />
              </td>
              <td>{item.field}</td>
              <td>{item.system}</td>
              <td className="day">{dayOf(item.erasedAt)}</td>
              <td className="day">{dayOf(item.reappearedAt ?? item.lastUseAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}
