import type { Policy } from '@lethe/api';
import { agingInWords } from '../components/aging-field.js';
import { Page } from '../components/page.js';
import { Show } from '../components/status.js';
import { dayOf } from '../format.js';
import { useCan } from '../permissions.js';
import { Link, navigate } from '../router.js';
import { useApi } from '../use-api.js';
import { NEW_POLICY_PATH } from './policy-page.js';
import { TableScroll } from '../components/table-scroll.js';

/** Every policy, active and retired: what each allows, for how long, on what legal basis. */
export function PoliciesPage() {
  const policies = useApi<{ items: Policy[] }>('/v1/policies');
  const mayWrite = useCan('policies:write');
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
      <Show loaded={policies} what="the policies">
        {({ items }) => (
          <TableScroll label="Policies table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Policy</th>
                  <th scope="col">Purpose</th>
                  <th scope="col">Retention</th>
                  <th scope="col">Counts from</th>
                  <th scope="col">Legal basis</th>
                  <th scope="col">Status</th>
                  <th scope="col">Version</th>
                  <th scope="col">Changed</th>
                </tr>
              </thead>
              <tbody>
                {items.map((policy) => (
                  <tr key={policy.name} className={policy.status === 'retired' ? 'retired' : ''}>
                    <td>
                      <Link to={`/policies/${encodeURIComponent(policy.name)}`}>{policy.name}</Link>
                    </td>
                    <td>{policy.purpose}</td>
                    <td>
                      <code>{policy.retention}</code>
                    </td>
                    <td>{agingInWords(policy.since)}</td>
                    <td>{policy.legalBasis.replace(/_/g, ' ')}</td>
                    <td>{policy.status}</td>
                    <td className="number">{policy.version}</td>
                    <td>{dayOf(policy.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )}
      </Show>
    </Page>
  );
}
