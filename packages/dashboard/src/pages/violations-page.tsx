import type { ConsentViolationPage, Policy, System } from '@lethe/api';
import { DataTable, TableChoice } from '../components/data-table.js';
import { violationColumns, violationKey } from '../components/consent-violations-panel.js';
import { Page } from '../components/page.js';
import { Show } from '../components/status.js';
import { useSessionView } from '../session-context.js';
import { maySeeSubjectIds } from '../subject-ids.js';
import { useApi, type Loaded } from '../use-api.js';
import { useTableQuery, type TableQuery } from '../use-table-query.js';

/** Every consent violation, newest first, paged on the server: `?system=&policy=&page=`. */
export function ViolationsPage() {
  const query = useTableQuery();
  const api = new URLSearchParams({ limit: String(query.pageSize), offset: String(query.offset) });
  for (const name of ['system', 'policy'] as const)
    if (query.get(name) !== '') api.set(name, query.get(name));
  const violations = useApi<ConsentViolationPage>(`/v1/consent/violations?${api.toString()}`);
  const me = useSessionView();
  return (
    <Page title="Consent violations">
      <p className="muted">
        Uses under a consent-based policy while the person had not consented (or had withdrawn): the data is
        due for deletion now.
      </p>
      <div className="table-filters">
        <NameChoice label="System" name="system" path="/v1/systems" query={query} />
        <NameChoice label="Policy" name="policy" path="/v1/policies" query={query} />
      </div>
      <Show loaded={me} what="consent violations">
        {(session) => (
          <Show loaded={violations} what="consent violations">
            {(page) => (
              <DataTable
                label="Consent violations"
                testId="violations"
                columns={violationColumns(maySeeSubjectIds(session))}
                rows={page.items}
                rowKey={violationKey}
                query={query}
                {...(page.total !== undefined ? { total: page.total } : {})}
                hasMore={page.next !== undefined}
                {...(maySeeSubjectIds(session) ? {} : { caption: 'Pseudonymised' })}
                empty="None match. Every use that needs consent had it."
              />
            )}
          </Show>
        )}
      </Show>
    </Page>
  );
}

/** A filter offering the names of systems or policies; only the chosen one while they load. */
function NameChoice(props: { label: string; name: string; path: string; query: TableQuery }) {
  const names = useApi<{ items: (System | Policy)[] }>(props.path);
  const chosen = props.query.get(props.name);
  const known = namesOf(names);
  return (
    <TableChoice
      label={props.label}
      name={props.name}
      query={props.query}
      choices={[
        { value: '', label: 'Any' },
        ...[...new Set([...known, ...(chosen !== '' ? [chosen] : [])])].map((name) => ({
          value: name,
          label: name,
        })),
      ]}
    />
  );
}

function namesOf(loaded: Loaded<{ items: (System | Policy)[] }>): string[] {
  return loaded.state === 'ready' ? loaded.data.items.map((item) => item.name).sort() : [];
}
