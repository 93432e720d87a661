import type { ConsentViolation, ConsentViolationPage } from '@lethe/api';
import { dayOf } from '../format.js';
import { Link } from '../router.js';
import { useSessionView } from '../session-context.js';
import { maySeeSubjectIds } from '../subject-ids.js';
import { useApi } from '../use-api.js';
import { DataTable, type Column } from './data-table.js';
import { Show } from './status.js';
import { SubjectId } from './subject-id.js';

export const LATEST_VIOLATIONS = 10;
export const VIOLATIONS_PATH = '/violations';

/**
 * The columns of a consent violation. An auditor without the subject-ids grant gets pseudonyms
 * from the server; those are shown as they come, not as links, since no subject page answers to them.
 */
export function violationColumns(idsShown: boolean): readonly Column<ConsentViolation>[] {
  return [
    {
      key: 'subject',
      header: 'Subject',
      cell: (item) => <SubjectId subject={item.subject} linked={idsShown} />,
    },
    { key: 'policy', header: 'Policy', cell: (item) => item.policy },
    { key: 'system', header: 'System', cell: (item) => item.system },
    { key: 'last', header: 'Latest use', cell: (item) => dayOf(item.lastAt), className: 'day' },
    { key: 'count', header: 'Uses', cell: (item) => item.count, className: 'number' },
  ];
}

export const violationKey = (item: ConsentViolation) => `${item.subject}/${item.policy}/${item.system}`;

/**
 * The latest uses made without the consent their policy needs (`GET /v1/consent/violations`,
 * newest first), with a link to all of them (`/violations`, paged and filtered).
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
            {(page) =>
              page.items.length === 0 ? (
                <p>None. Every use that needs consent had it.</p>
              ) : (
                <>
                  <DataTable
                    label="Latest consent violations"
                    testId="violations"
                    columns={violationColumns(maySeeSubjectIds(session))}
                    rows={page.items}
                    rowKey={violationKey}
                    caption={`The latest ${page.items.length}${page.total !== undefined ? ` of ${page.total}` : ''}${maySeeSubjectIds(session) ? '' : ', pseudonymised'}`}
                    empty="None."
                  />
                  {page.next !== undefined ? <Link to={VIOLATIONS_PATH}>All consent violations</Link> : null}
                </>
              )
            }
          </Show>
        )}
      </Show>
    </section>
  );
}
