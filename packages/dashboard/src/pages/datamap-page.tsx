import type { DataMapDrift, DataMapGraph, GraphNode } from '@lethe/api';
import { useMemo, useState } from 'react';
import { edgeId, GraphView, provenanceOf, type Provenance } from '../components/graph-view.js';
import { Page } from '../components/page.js';
import { Show } from '../components/status.js';
import { dayOf } from '../format.js';
import { useApi } from '../use-api.js';

interface Filters {
  team: string;
  system: string;
  category: string;
}

const PROVENANCE_TEXT: Record<Provenance, string> = {
  declared: 'declared',
  'observed-only': 'drift: observed, never declared',
  unobserved: 'drift: declared, not observed by discovery',
  stale: 'drift: discovered once, not seen lately',
};

const systemName = (id: string) => id.replace(/^system:/, '');

/** Teams, systems, what each stores and where data flows, filtered, with drift highlighted. */
export default function DataMapPage() {
  const everything = useApi<DataMapGraph>('/v1/datamap/graph');
  const drift = useApi<DataMapDrift>('/v1/datamap/drift');
  const [filters, setFilters] = useState<Filters>({ team: '', system: '', category: '' });
  const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== '')).toString();
  const graph = useApi<DataMapGraph>(`/v1/datamap/graph${query ? `?${query}` : ''}`);
  const [selected, setSelected] = useState<string>();

  const unobserved = useMemo(
    () =>
      new Set(
        drift.state === 'ready'
          ? drift.data.unobservedFlows.map((flow) => `system:${flow.from}->system:${flow.to}`)
          : [],
      ),
    [drift],
  );

  return (
    <Page title="Data map">
      <Show loaded={everything} what="the data map">
        {(full) => (
          <form className="filters" aria-label="Filter the map" onSubmit={(event) => event.preventDefault()}>
            {(['team', 'system', 'category'] as const).map((kind) => (
              <div key={kind}>
                <label htmlFor={`filter-${kind}`}>
                  {kind === 'category' ? 'Data category' : kind === 'team' ? 'Team' : 'System'}
                </label>
                <select
                  id={`filter-${kind}`}
                  value={filters[kind]}
                  onChange={(event) => {
                    setSelected(undefined);
                    setFilters({ ...filters, [kind]: event.target.value });
                  }}
                >
                  <option value="">all</option>
                  {full.nodes
                    .filter((node) => node.kind === kind)
                    .map((node) => (
                      <option key={node.id} value={node.label}>
                        {node.label}
                      </option>
                    ))}
                </select>
              </div>
            ))}
          </form>
        )}
      </Show>
      <Show loaded={graph} what="the graph">
        {(shown) => (
          <div className="map-layout">
            <div>
              <GraphView graph={shown} unobserved={unobserved} selected={selected} onSelect={setSelected} />
              <Legend />
            </div>
            <aside aria-label="Details">
              <Details graph={shown} id={selected} unobserved={unobserved} />
              <ElementList graph={shown} selected={selected} onSelect={setSelected} />
            </aside>
          </div>
        )}
      </Show>
      <h2>Drift</h2>
      <Show loaded={drift} what="the drift report">
        {(report) => <DriftSummary drift={report} />}
      </Show>
    </Page>
  );
}

function Legend() {
  return (
    <ul className="legend" aria-label="Legend">
      <li>
        <span className="swatch swatch-flow" /> flow (transmits)
      </li>
      <li>
        <span className="swatch swatch-drift" /> observed, never declared
      </li>
      <li>
        <span className="swatch swatch-unobserved" /> declared, not observed
      </li>
      <li>■ team · ● system · ◆ data category · ▲ rights client</li>
    </ul>
  );
}

/** What a node stores and transmits, or what an edge carries. */
function Details({
  graph,
  id,
  unobserved,
}: {
  graph: DataMapGraph;
  id: string | undefined;
  unobserved: ReadonlySet<string>;
}) {
  if (!id) return <p className="muted">Select a team, system or flow in the graph or the list below.</p>;
  const node = graph.nodes.find((candidate) => candidate.id === id);
  if (node) return <NodeDetails graph={graph} node={node} />;
  const edge = graph.edges.find((candidate) => edgeId(candidate) === id);
  if (!edge) return null;
  const provenance = provenanceOf(edge, unobserved.has(`${edge.from}->${edge.to}`));
  return (
    <section className="details" aria-live="polite" data-testid="details">
      <h2>
        {label(graph, edge.from)} → {label(graph, edge.to)}
      </h2>
      <p>
        {edge.kind === 'transmit'
          ? 'Transmits'
          : edge.kind === 'store'
            ? 'Stores'
            : edge.kind === 'owns'
              ? 'Owns'
              : 'Rights client'}
        {edge.categories.length ? `: ${edge.categories.join(', ')}` : ''}
      </p>
      <p className={provenance === 'declared' ? 'muted' : 'error-text'}>{PROVENANCE_TEXT[provenance]}</p>
      <p className="muted">
        Known from {edge.sources.join(', ')}
        {edge.lastSeenAt ? `; last seen ${dayOf(edge.lastSeenAt)}` : ''}
      </p>
    </section>
  );
}

function NodeDetails({ graph, node }: { graph: DataMapGraph; node: GraphNode }) {
  const out = graph.edges.filter((edge) => edge.from === node.id);
  const into = graph.edges.filter((edge) => edge.to === node.id && edge.kind === 'transmit');
  const stores = out.filter((edge) => edge.kind === 'store').map((edge) => label(graph, edge.to));
  const sends = out.filter((edge) => edge.kind === 'transmit');
  const owns = out.filter((edge) => edge.kind === 'owns').map((edge) => label(graph, edge.to));
  return (
    <section className="details" aria-live="polite" data-testid="details">
      <h2>
        {node.label} <span className="muted">({node.kind})</span>
      </h2>
      {node.description ? <p>{node.description}</p> : null}
      <dl className="facts">
        {node.team ? (
          <>
            <dt>Team</dt>
            <dd>{node.team}</dd>
          </>
        ) : null}
        {node.country ? (
          <>
            <dt>Country</dt>
            <dd>
              {node.country}
              {node.thirdParty ? ' (third party)' : ''}
            </dd>
          </>
        ) : null}
        {owns.length ? (
          <>
            <dt>Owns</dt>
            <dd>{owns.join(', ')}</dd>
          </>
        ) : null}
        {node.kind === 'system' ? (
          <>
            <dt>Stores</dt>
            <dd>{stores.length ? stores.join(', ') : 'nothing declared'}</dd>
            <dt>Sends</dt>
            <dd>
              {sends.length
                ? sends.map((edge) => `${label(graph, edge.to)} (${edge.categories.join(', ')})`).join('; ')
                : 'nothing'}
            </dd>
            <dt>Receives</dt>
            <dd>
              {into.length
                ? into.map((edge) => `${label(graph, edge.from)} (${edge.categories.join(', ')})`).join('; ')
                : 'nothing'}
            </dd>
          </>
        ) : null}
      </dl>
      <p className="muted">Known from {node.sources.join(', ')}</p>
    </section>
  );
}

/** The graph's systems and flows as buttons: the keyboard's and the screen reader's way in. */
function ElementList({
  graph,
  selected,
  onSelect,
}: {
  graph: DataMapGraph;
  selected: string | undefined;
  onSelect: (id: string) => void;
}) {
  const systems = graph.nodes.filter((node) => node.kind === 'system' || node.kind === 'team');
  const flows = graph.edges.filter((edge) => edge.kind === 'transmit');
  return (
    <nav aria-label="Map elements" className="element-list">
      <h2>Teams and systems</h2>
      <ul>
        {systems.map((node) => (
          <li key={node.id}>
            <button
              type="button"
              className="link"
              aria-pressed={selected === node.id}
              onClick={() => onSelect(node.id)}
            >
              {node.label} <span className="muted">({node.kind})</span>
            </button>
          </li>
        ))}
      </ul>
      <h2>Flows</h2>
      <ul>
        {flows.map((edge) => (
          <li key={edgeId(edge)}>
            <button
              type="button"
              className="link"
              aria-pressed={selected === edgeId(edge)}
              onClick={() => onSelect(edgeId(edge))}
            >
              {label(graph, edge.from)} → {label(graph, edge.to)}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function DriftSummary({ drift }: { drift: DataMapDrift }) {
  const items = [
    ...drift.undeclaredFlows.map(
      (flow) => `Undeclared flow ${flow.from} → ${flow.to} (${flow.categories.join(', ')})`,
    ),
    ...drift.undeclaredCategories.map(
      (flow) => `${flow.from} → ${flow.to} carries ${flow.categories.join(', ')} beyond its declaration`,
    ),
    ...drift.undeclaredStores.map(
      (store) => `${store.system} stores ${store.category}, which no declared field covers`,
    ),
    ...drift.unknownSystems.map((system) => `Unknown system ${system.name}`),
    ...drift.unobservedFlows.map((flow) => `Declared flow ${flow.from} → ${flow.to} not observed`),
    ...drift.undeclaredUses.map(
      (use) => `${use.system} uses ${use.field}${use.owner ? ` (declared by ${use.owner})` : ''}`,
    ),
  ];
  return (
    <>
      {drift.observing ? null : (
        <p className="muted">
          No discovery source has reported yet, so flows cannot be checked against what runs; only telemetry
          is compared with the map.
        </p>
      )}
      {items.length === 0 ? (
        <p>No drift: the map and what was observed agree.</p>
      ) : (
        <ul className="drift-list" data-testid="drift-list">
          {items.map((item) => (
            <li key={item}>{item}</li>
          ))}
        </ul>
      )}
    </>
  );
}

function label(graph: DataMapGraph, id: string): string {
  return graph.nodes.find((node) => node.id === id)?.label ?? systemName(id);
}
