import type { ContractHistory, DataContract } from '@lethe/api';
import { Page } from '../components/page.js';
import { Show } from '../components/status.js';
import { dayOf } from '../format.js';
import { useApi } from '../use-api.js';

/**
 * The data contracts of privacy streams (docs/privacy-streams.md), read only: what each stream's
 * events carry, which attributes are personal and the purposes each may serve. Contracts are
 * published through the API or `lethe apply`, reviewed like code; the dashboard only shows them.
 */
export function ContractsPage() {
  const contracts = useApi<{ items: DataContract[] }>('/v1/contracts');
  return (
    <Page title="Data contracts">
      <Show loaded={contracts} what="the data contracts">
        {(data) =>
          data.items.length === 0 ? (
            <p>
              No contracts yet. Publish one with <code>PUT /v1/contracts/NAME</code> or{' '}
              <code>lethe apply</code>.
            </p>
          ) : (
            data.items.map((contract) => <ContractCard key={contract.name} contract={contract} />)
          )
        }
      </Show>
    </Page>
  );
}

function ContractCard({ contract }: { contract: DataContract }) {
  // The list holds the newest version of each; the other version numbers come with its history.
  const history = useApi<ContractHistory>(`/v1/contracts/${encodeURIComponent(contract.name)}`);
  return (
    <section
      className="details contract"
      aria-labelledby={`contract-${contract.name}`}
      data-testid="contract"
    >
      <h2 id={`contract-${contract.name}`}>{contract.name}</h2>
      {contract.description ? <p>{contract.description}</p> : null}
      <dl className="facts">
        <dt>Version</dt>
        <dd>
          {contract.version}, published {dayOf(contract.createdAt)}
        </dd>
        <dt>Versions</dt>
        <dd data-testid="contract-versions">
          {history.state === 'ready' ? history.data.versions.join(', ') : '…'}
        </dd>
        <dt>Subject</dt>
        <dd>
          <code>{contract.subject}</code>
        </dd>
        <dt>Key link</dt>
        <dd>
          <code>{contract.keyLink}</code>
        </dd>
        {contract.keyRetention ? (
          <>
            <dt>Keys kept</dt>
            <dd>{contract.keyRetention} after their rotation period</dd>
          </>
        ) : null}
      </dl>
      <table>
        <caption className="muted">Personal attributes and the purposes each may be used for</caption>
        <thead>
          <tr>
            <th scope="col">Attribute</th>
            <th scope="col">Purposes</th>
          </tr>
        </thead>
        <tbody>
          {contract.personal.map((personal) => (
            <tr key={personal.attribute}>
              <td>
                <code>{personal.attribute}</code>
              </td>
              <td>{personal.purposes.join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
