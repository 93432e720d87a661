import type { ContractHistory, DataContract } from '@lethe/api';
import { DataTable, type Column } from '../components/data-table.js';
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

type PersonalAttribute = DataContract['personal'][number];

const ATTRIBUTE_COLUMNS: readonly Column<PersonalAttribute>[] = [
  { key: 'attribute', header: 'Attribute', cell: (personal) => <code>{personal.attribute}</code> },
  { key: 'purposes', header: 'Purposes', cell: (personal) => personal.purposes.join(', ') },
];

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
      {/* A contract's own few attributes, in its order: a plain table, neither paged nor sorted. */}
      <DataTable
        label={`Personal attributes of ${contract.name}`}
        caption="Personal attributes and the purposes each may be used for"
        columns={ATTRIBUTE_COLUMNS}
        rows={contract.personal}
        rowKey={(personal) => personal.attribute}
        empty="No personal attributes."
      />
    </section>
  );
}
