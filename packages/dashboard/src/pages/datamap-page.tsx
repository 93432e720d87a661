import type { DataMapDrift, DataMapGraph, GraphNode } from '@lethe/api';
import { useMemo, useRef, useState, type FormEvent, type RefObject } from 'react';
import {
  edgeId,
  GraphView,
  provenanceOf,
  type GraphControls,
  type Provenance,
} from '../components/graph-view.js';
import { Page } from '../components/page.js';
import { Show } from '../components/status.js';
import { teamColour } from '../components/team-colours.js';
import { dayOf } from '../format.js';
import { navigate, useLocation } from '../router.js';
import { useSessionView } from '../session-context.js';
import { useApi } from '../use-api.js';

const FILTERS = ['team', 'system', 'category'] as const;
type FilterName = (typeof FILTERS)[number];

const PROVENANCE_TEXT: Record<Provenance, string> = {
  declared: 'declared',
  'observed-only': 'drift: observed, never declared',
  unobserved: 'drift: declared, not observed by discovery',
  stale: 'drift: discovered once, not seen lately',
};

const systemName = (id: string) => id.replace(/^system:/, '');

/**
 * Teams, systems, what each stores and where data flows, filtered, with drift highlighted. The
 * filters live in the address (`/datamap?team=…&category=…`), so a reload or a shared link shows
 * the same view.
 */
export default function DataMapPage() {
  const location = useLocation();
  const filters = Object.fromEntries(FILTERS.map((name) => [name, location.query.get(name) ?? ''])) as Record<
    FilterName,
    string
  >;
  const everything = useApi<DataMapGraph>('/v1/datamap/graph');
  // Drift compares every data category: a category-limited token is refused it
  // (CATEGORY_NOT_PERMITTED, docs/security.md), so it is not asked for.
  const me = useSessionView();
  const limited = me.state === 'ready' && me.data.categories !== undefined;
  const drift = useApi<DataMapDrift>(limited ? undefined : '/v1/datamap/drift');
  const query = new URLSearchParams(
    FILTERS.flatMap((name) => (filters[name] ? [[name, filters[name]]] : [])),
  ).toString();
  const graph = useApi<DataMapGraph>(`/v1/datamap/graph${query ? `?${query}` : ''}`);
  const [selected, setSelected] = useState<string>();
  const controls = useRef<GraphControls>(null);

  const setFilter = (name: FilterName, value: string) => {
    setSelected(undefined);
    const next = new URLSearchParams(location.query);
    if (value) next.set(name, value);
    else next.delete(name);
    const search = next.toString();
    navigate(`/datamap${search ? `?${search}` : ''}`, { replace: true });
  };

  // Keyed on the report itself: `drift` is a new object on every render, and a new set would
  // redraw the map (losing zoom, pan and the found system).
  const driftReport = drift.state === 'ready' ? drift.data : undefined;
  const unobserved = useMemo(
    () =>
      new Set(
        driftReport
          ? driftReport.unobservedFlows.map((flow) => `system:${flow.from}->system:${flow.to}`)
          : [],
      ),
    [driftReport],
  );

  return (
    <Page title="Data map">
      <Show loaded={everything} what="the data map">
        {(full) => (
          <form className="filters" aria-label="Filter the map" onSubmit={(event) => event.preventDefault()}>
            {FILTERS.map((kind) => (
              <div key={kind}>
                <label htmlFor={`filter-${kind}`}>
                  {kind === 'category' ? 'Data category' : kind === 'team' ? 'Team' : 'System'}
                </label>
                <select
                  id={`filter-${kind}`}
                  value={filters[kind]}
                  onChange={(event) => setFilter(kind, event.target.value)}
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
              <MapToolbar graph={shown} controls={controls} onFound={setSelected} />
              <GraphView
                graph={shown}
                unobserved={unobserved}
                selected={selected}
                onSelect={setSelected}
                controls={controls}
              />
              <Legend graph={shown} />
            </div>
            <aside aria-label="Details">
              <Details graph={shown} id={selected} unobserved={unobserved} />
              <ElementList graph={shown} selected={selected} onSelect={setSelected} />
            </aside>
          </div>
        )}
      </Show>
      <h2>Drift</h2>
      {limited ? (
        <p className="muted" data-testid="drift-limited">
          The drift report compares every data category, so it needs a token without category limits.
        </p>
      ) : (
        <Show loaded={drift} what="the drift report">
          {(report) => <DriftSummary drift={report} />}
        </Show>
      )}
    </Page>
  );
}

/** Find a system (centred and marked in the map, its details opened) and zoom in, out or to fit. */
function MapToolbar({
  graph,
  controls,
  onFound,
}: {
  graph: DataMapGraph;
  controls: RefObject<GraphControls | null>;
  onFound: (id: string) => void;
}) {
  const [text, setText] = useState('');
  const [notFound, setNotFound] = useState<string>();
  const systems = graph.nodes.filter((node) => node.kind === 'system');
  const find = (event: FormEvent) => {
    event.preventDefault();
    const wanted = text.trim().toLowerCase();
    const match =
      systems.find((node) => node.label.toLowerCase() === wanted) ??
      systems.find((node) => node.label.toLowerCase().includes(wanted));
    if (!wanted || !match || !controls.current?.reveal(match.id)) {
      setNotFound(wanted ? `No system named like "${text.trim()}" in this view.` : undefined);
      return;
    }
    setNotFound(undefined);
    onFound(match.id);
  };
  return (
    <div className="map-toolbar">
      <form role="search" aria-label="Find a system" onSubmit={find}>
        <label htmlFor="map-search">Find a system</label>
        <input
          id="map-search"
          type="search"
          list="map-systems"
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
        <datalist id="map-systems">
          {systems.map((node) => (
            <option key={node.id} value={node.label} />
          ))}
        </datalist>
        <button type="submit">Find</button>
      </form>
      <div role="group" aria-label="Zoom">
        <button type="button" onClick={() => controls.current?.zoomIn()} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={() => controls.current?.zoomOut()} aria-label="Zoom out">
          −
        </button>
        <button type="button" onClick={() => controls.current?.fit()}>
          Fit
        </button>
      </div>
      {notFound ? (
        <p className="error-text" role="status">
          {notFound}
        </p>
      ) : null}
    </div>
  );
}

function Legend({ graph }: { graph: DataMapGraph }) {
  const teams = [
    ...new Set(graph.nodes.flatMap((node) => (node.kind === 'system' && node.team ? [node.team] : []))),
  ].sort();
  return (
    <ul className="legend" aria-label="Legend">
      {teams.map((team) => (
        <li key={team}>
          <svg className="team-swatch" viewBox="0 0 12 12" aria-hidden="true">
            <rect width="12" height="12" rx="2" fill={teamColour(team)} />
          </svg>{' '}
          team {team}
        </li>
      ))}
      <li>
        <span className="swatch swatch-flow" /> flow (transmits; categories on hover or selection)
      </li>
      <li>
        <span className="swatch swatch-drift" /> observed, never declared
      </li>
      <li>
        <span className="swatch swatch-unobserved" /> declared, not observed
      </li>
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
        {endOf(graph, edge.from)} → {endOf(graph, edge.to)}
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
      {edge.kind === 'transmit' ? (
        <dl className="facts">
          <dt>From</dt>
          <dd>{endOf(graph, edge.from)}</dd>
          <dt>To</dt>
          <dd>{endOf(graph, edge.to)}</dd>
          <dt>Categories</dt>
          <dd>
            <ul className="plain-list">
              {edge.categories.map((key) => (
                <li key={key}>{key}</li>
              ))}
            </ul>
          </dd>
        </dl>
      ) : null}
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

/** `orders (commerce)`: a system and its team, as the edge panel names the ends of a flow. */
function endOf(graph: DataMapGraph, id: string): string {
  const node = graph.nodes.find((candidate) => candidate.id === id);
  const name = node?.label ?? systemName(id);
  return node?.team ? `${name} (${node.team})` : name;
}

function label(graph: DataMapGraph, id: string): string {
  return graph.nodes.find((node) => node.id === id)?.label ?? systemName(id);
}
