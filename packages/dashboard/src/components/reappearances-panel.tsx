import type { Reappearance } from '@lethe/api';
import { dayOf } from '../format.js';
import { useSessionView } from '../session-context.js';
import { maySeeSubjectIds } from '../subject-ids.js';
import { useApi } from '../use-api.js';
import { DataTable, type Column } from './data-table.js';
import { Show } from './status.js';
import { SubjectId } from './subject-id.js';

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

const reappearanceColumns = (idsShown: boolean): readonly Column<Reappearance>[] => [
  {
    key: 'subject',
    header: 'Subject',
    cell: (item) => <SubjectId subject={item.subject} linked={idsShown} />,
  },
  { key: 'field', header: 'Field', cell: (item) => item.field },
  { key: 'system', header: 'System', cell: (item) => item.system },
  { key: 'erased', header: 'Erased', cell: (item) => dayOf(item.erasedAt), className: 'day' },
  {
    key: 'again',
    header: 'Used again',
    cell: (item) => dayOf(item.reappearedAt ?? item.lastUseAt),
    className: 'day',
  },
];

/** The latest few, newest first as the server sends them: a plain table, like the latest violations. */
function ReappearancesTable(props: { items: readonly Reappearance[]; more: boolean; idsShown: boolean }) {
  const { items, more, idsShown } = props;
  if (items.length === 0) return <p>None. No erased data has been used again.</p>;
  return (
    <DataTable
      label="Re-appearances table"
      testId="reappearances"
      caption={`The latest ${items.length}${more ? ' (more in the API)' : ''}${idsShown ? '' : ', pseudonymised'}`}
      columns={reappearanceColumns(idsShown)}
      rows={items}
      rowKey={(item) => `${item.subject}/${item.field}`}
      empty="None."
    />
  );
}
