import type { Policy } from '@lethe/api';
import { agingInWords } from '../components/aging-field.js';
import { TableSearch, type Column } from '../components/data-table.js';
import { LocalTable } from '../components/local-table.js';
import { Page } from '../components/page.js';
import { Show } from '../components/status.js';
import { dayOf } from '../format.js';
import { useCan } from '../permissions.js';
import { spaced } from '../options.js';
import { Link, navigate } from '../router.js';
import { useApi } from '../use-api.js';
import { useTableQuery } from '../use-table-query.js';
import { NEW_POLICY_PATH } from './policy-page.js';

const COLUMNS: readonly Column<Policy>[] = [
  {
    key: 'name',
    header: 'Policy',
    cell: (policy) => <Link to={`/policies/${encodeURIComponent(policy.name)}`}>{policy.name}</Link>,
    value: (policy) => policy.name,
  },
  { key: 'purpose', header: 'Purpose', cell: (policy) => policy.purpose, value: (policy) => policy.purpose },
  { key: 'retention', header: 'Retention', cell: (policy) => <code>{policy.retention}</code> },
  { key: 'since', header: 'Counts from', cell: (policy) => agingInWords(policy.since) },
  {
    key: 'basis',
    header: 'Legal basis',
    cell: (policy) => spaced(policy.legalBasis),
    value: (policy) => policy.legalBasis,
  },
  { key: 'status', header: 'Status', cell: (policy) => policy.status, value: (policy) => policy.status },
  { key: 'version', header: 'Version', cell: (policy) => policy.version, className: 'number' },
  {
    key: 'changed',
    header: 'Changed',
    cell: (policy) => dayOf(policy.updatedAt),
    value: (policy) => policy.updatedAt,
  },
];

/** Every policy, active and retired: what each allows, for how long, on what legal basis. */
export function PoliciesPage() {
  const policies = useApi<{ items: Policy[] }>('/v1/policies');
  const mayWrite = useCan('policies:write');
  const query = useTableQuery();
  return (
    <Page
      title="Policies"
      actions={
        mayWrite ? (
          <button type="button" onClick={() => navigate(NEW_POLICY_PATH)}>
            New policy
          </button>
        ) : null
      }
    >
      <TableSearch label="Search policies" query={query} />
      <Show loaded={policies} what="the policies">
        {({ items }) => (
          <LocalTable
            label="Policies"
            testId="policies"
            columns={COLUMNS}
            rows={items}
            rowKey={(policy) => policy.name}
            rowClassName={(policy) => (policy.status === 'retired' ? 'retired' : undefined)}
            query={query}
            empty="No policies match."
          />
        )}
      </Show>
    </Page>
  );
}
