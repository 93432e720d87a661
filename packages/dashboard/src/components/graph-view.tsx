import type { DataMapGraph, GraphEdge } from '@lethe/api';
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import { useEffect, useImperativeHandle, useRef, useState, type Ref } from 'react';
import { layoutMap, type MapLayout } from './map-layout.js';
import { teamColour } from './team-colours.js';

/** What an element of the map is, for styling: declared and observed agree, or they do not. */
export type Provenance = 'declared' | 'observed-only' | 'unobserved' | 'stale';

export function provenanceOf(entry: { sources: string[]; stale: boolean }, unobserved: boolean): Provenance {
  if (entry.stale) return 'stale';
  if (!entry.sources.includes('declared')) return 'observed-only';
  return unobserved ? 'unobserved' : 'declared';
}

/**
 * Cytoscape adds a `<style>` element (for `position: relative` on its container) unless an element
 * with this id exists; the dashboard's CSP refuses inline styles, so the rule is in styles.css and
 * an empty marker element tells Cytoscape it is there.
 */
const CYTOSCAPE_STYLESHEET_ID = '__________cytoscape_stylesheet';
function markCytoscapeStylesheetPresent(): void {
  if (document.getElementById(CYTOSCAPE_STYLESHEET_ID)) return;
  const marker = document.createElement('meta');
  marker.id = CYTOSCAPE_STYLESHEET_ID;
  document.head.append(marker);
}

/** `user.contact.email` → `contact.email`: the taxonomy's root says nothing in a map of user data. */
export function shortCategory(key: string): string {
  const parts = key.split('.');
  return parts.length > 2 ? parts.slice(-2).join('.') : key;
}

export const edgeId = (edge: GraphEdge) => `${edge.kind}:${edge.from}->${edge.to}`;

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: 'node[kind = "system"]',
    style: {
      shape: 'round-rectangle',
      label: 'data(label)',
      'font-size': 12,
      'text-valign': 'center',
      'text-halign': 'center',
      color: '#fff',
      'background-color': 'data(colour)',
      width: 'data(width)',
      height: 'data(height)',
      'z-index': 20,
    },
  },
  {
    // A team's box, sized as ELK laid it out (min-width/height and biases set per team).
    selector: 'node[kind = "team"]',
    style: {
      shape: 'round-rectangle',
      label: 'data(label)',
      'font-size': 12,
      'font-weight': 'bold',
      'text-valign': 'top',
      'text-halign': 'center',
      'text-margin-y': 22,
      color: 'data(colour)',
      'background-color': 'data(colour)',
      'background-opacity': 0.08,
      'border-color': 'data(colour)',
      'border-width': 1.5,
      padding: '0',
      'z-index': 0,
    },
  },
  {
    selector: 'edge',
    style: {
      width: 3,
      'line-color': '#2856b6',
      'target-arrow-color': '#2856b6',
      'target-arrow-shape': 'triangle',
      'curve-style': 'segments',
      'edge-distances': 'node-position',
      // Edges above team boxes (which would otherwise take a click inside them), below systems.
      'z-compound-depth': 'top',
      'z-index': 10,
      // A wider invisible band for the pointer: a 3 px line is hard to hit.
      'overlay-padding': 4,
      label: '',
      'font-size': 11,
      'text-background-color': '#fff',
      'text-background-opacity': 0.9,
      'text-background-padding': '2px',
      'text-rotation': 'none',
    },
  },
  { selector: 'edge.straight', style: { 'curve-style': 'straight' } },
  // Categories are shown only for the edge under the pointer or selected: side by side they overlap.
  { selector: 'edge.hover, edge:selected', style: { label: 'data(categoryText)', 'z-index': 15 } },
  // Drift: seen but never declared (red), declared but not seen by discovery (amber), gone quiet (grey).
  {
    selector: 'edge.observed-only',
    style: { 'line-color': '#b3261e', 'target-arrow-color': '#b3261e', 'line-style': 'dashed' },
  },
  { selector: 'node.observed-only', style: { 'border-color': '#b3261e', 'border-width': 3 } },
  {
    selector: 'edge.unobserved',
    style: { 'line-color': '#d08a00', 'target-arrow-color': '#d08a00', 'line-style': 'dashed' },
  },
  { selector: '.stale', style: { opacity: 0.45, 'line-style': 'dotted' } },
  { selector: 'node.found', style: { 'border-color': '#111', 'border-width': 4 } },
  {
    selector: ':selected',
    style: { 'overlay-color': '#2856b6', 'overlay-opacity': 0.25 },
  },
];

/** What the page can ask of the drawn map. */
export interface GraphControls {
  zoomIn(): void;
  zoomOut(): void;
  fit(): void;
  /** Centres the node and marks it found; false when it is not drawn. */
  reveal(id: string): boolean;
}

/** Cytoscape's `segment-weights`/`segment-distances` for a route's bend points (`edge-distances: node-position`). */
function segmentsOf(
  points: readonly { x: number; y: number }[],
  source: { x: number; y: number },
  target: { x: number; y: number },
): { weights: number[]; distances: number[] } {
  const vx = target.x - source.x;
  const vy = target.y - source.y;
  const length = Math.hypot(vx, vy) || 1;
  const weights: number[] = [];
  const distances: number[] = [];
  for (const point of points) {
    const px = point.x - source.x;
    const py = point.y - source.y;
    weights.push((px * vx + py * vy) / (length * length));
    // Cytoscape places a point at the weighted position plus d along (-vy, vx) / |v|.
    distances.push((px * -vy + py * vx) / length);
  }
  return { weights, distances };
}

function elementsOf(
  layout: MapLayout,
  unobserved: ReadonlySet<string>,
  graph: DataMapGraph,
): ElementDefinition[] {
  const nodeById = new Map(graph.nodes.map((node) => [node.id, node]));
  const centres = new Map(layout.systems.map((system) => [system.id, system]));
  const elements: ElementDefinition[] = [];
  for (const team of layout.teams) {
    const node = nodeById.get(`team:${team.team}`);
    elements.push({
      group: 'nodes',
      data: { id: `team:${team.team}`, label: team.team, kind: 'team', colour: teamColour(team.team) },
      classes: node ? provenanceOf(node, false) : '',
    });
  }
  for (const system of layout.systems) {
    const node = nodeById.get(system.id);
    elements.push({
      group: 'nodes',
      data: {
        id: system.id,
        label: system.label,
        kind: 'system',
        colour: system.team === undefined ? '#5b6576' : teamColour(system.team),
        width: system.width,
        height: system.height,
        ...(system.team !== undefined ? { parent: `team:${system.team}` } : {}),
      },
      position: { x: system.x, y: system.y },
      classes: node ? provenanceOf(node, false) : '',
    });
  }
  for (const flow of layout.flows) {
    const { edge, points } = flow;
    const source = centres.get(edge.from);
    const target = centres.get(edge.to);
    if (!source || !target || points.length < 2) continue;
    const bends = points.slice(1, -1);
    const classes: string[] = [provenanceOf(edge, unobserved.has(`${edge.from}->${edge.to}`))];
    if (bends.length === 0) classes.push('straight');
    elements.push({
      group: 'edges',
      data: {
        id: edgeId(edge),
        source: edge.from,
        target: edge.to,
        kind: edge.kind,
        categoryText: edge.categories.map(shortCategory).join(', '),
        // ELK's route, kept for the browser test that checks what Cytoscape draws against it.
        route: points.map((point) => ({ x: point.x, y: point.y })),
      },
      classes: classes.join(' '),
    });
  }
  return elements;
}

/** Places the routes' endpoints and bends on the edges, and sizes the team boxes as ELK did. */
function applyGeometry(instance: Core, layout: MapLayout): void {
  const centres = new Map(layout.systems.map((system) => [system.id, system]));
  for (const flow of layout.flows) {
    const element = instance.getElementById(edgeId(flow.edge));
    const source = centres.get(flow.edge.from);
    const target = centres.get(flow.edge.to);
    if (element.empty() || !source || !target) continue;
    const first = flow.points[0] as { x: number; y: number };
    const last = flow.points[flow.points.length - 1] as { x: number; y: number };
    const { weights, distances } = segmentsOf(flow.points.slice(1, -1), source, target);
    element.style({
      'source-endpoint': `${first.x - source.x}px ${first.y - source.y}px`,
      'target-endpoint': `${last.x - target.x}px ${last.y - target.y}px`,
      ...(weights.length
        ? { 'segment-weights': weights.join(' '), 'segment-distances': distances.join(' ') }
        : {}),
    });
  }
  for (const team of layout.teams) {
    const element = instance.getElementById(`team:${team.team}`);
    if (element.empty()) continue;
    const members = layout.systems.filter((system) => system.team === team.team);
    const left = Math.min(...members.map((system) => system.x - system.width / 2));
    const right = Math.max(...members.map((system) => system.x + system.width / 2));
    const top = Math.min(...members.map((system) => system.y - system.height / 2));
    const bottom = Math.max(...members.map((system) => system.y + system.height / 2));
    const extraWidth = Math.max(0, team.width - (right - left));
    const extraHeight = Math.max(0, team.height - (bottom - top));
    const share = (part: number, extra: number) => `${extra > 0 ? Math.min(100, (100 * part) / extra) : 50}%`;
    element.style({
      'min-width': `${team.width}px`,
      'min-height': `${team.height}px`,
      'min-width-bias-left': share(left - team.x, extraWidth),
      'min-width-bias-right': share(team.x + team.width - right, extraWidth),
      'min-height-bias-top': share(top - team.y, extraHeight),
      'min-height-bias-bottom': share(team.y + team.height - bottom, extraHeight),
    });
  }
}

/**
 * The data map drawn by Cytoscape.js on ELK's layered layout (`map-layout.ts`): teams as coloured
 * boxes, systems inside them, flows routed around the systems. Selecting a system, team or flow
 * (click or tap) reports its id; `selected` selects one from outside (the keyboard-usable list
 * beside the graph). Nodes cannot be dragged: the routes were computed for where they are.
 */
export function GraphView(props: {
  graph: DataMapGraph;
  unobserved: ReadonlySet<string>;
  selected: string | undefined;
  onSelect: (id: string | undefined) => void;
  controls?: Ref<GraphControls>;
}) {
  const container = useRef<HTMLDivElement>(null);
  const core = useRef<Core>(undefined);
  // The layout with the graph it was made for: a new graph shows nothing until its layout is ready.
  const [laid, setLaid] = useState<{ graph: DataMapGraph; layout: MapLayout }>();
  const layout = laid?.graph === props.graph ? laid.layout : undefined;
  const [failure, setFailure] = useState<string>();
  // Cytoscape's handlers are bound once per graph; they call the latest callback through this ref.
  const onSelect = useRef(props.onSelect);
  useEffect(() => {
    onSelect.current = props.onSelect;
  });

  useEffect(() => {
    let current = true;
    const graph = props.graph;
    // The phone width of styles.css, read once per graph: turning the phone does not redraw the map.
    const direction = window.matchMedia('(max-width: 600px)').matches ? 'DOWN' : 'RIGHT';
    layoutMap(graph, direction).then(
      (computed) => current && setLaid({ graph, layout: computed }),
      (error: Error) => current && setFailure(error.message),
    );
    return () => {
      current = false;
    };
  }, [props.graph]);

  useEffect(() => {
    if (!container.current || !layout) return;
    markCytoscapeStylesheetPresent();
    const instance = cytoscape({
      container: container.current,
      elements: elementsOf(layout, props.unobserved, props.graph),
      style: STYLE,
      layout: { name: 'preset', fit: true, padding: 24 },
      selectionType: 'single',
      autoungrabify: true,
      wheelSensitivity: 0.3,
    });
    applyGeometry(instance, layout);
    instance.fit(undefined, 24);
    instance.on('select', 'node, edge', (event) =>
      onSelect.current((event.target as cytoscape.SingularElementReturnValue).id()),
    );
    instance.on('tap', (event) => {
      if (event.target === instance) onSelect.current(undefined);
    });
    instance.on('mouseover', 'edge', (event) => (event.target as cytoscape.EdgeSingular).addClass('hover'));
    instance.on('mouseout', 'edge', (event) => (event.target as cytoscape.EdgeSingular).removeClass('hover'));
    core.current = instance;
    // The drawn map for the browser tests (geometry, hit-testing); it holds only what the page shows.
    (window as unknown as { __lethe_cy?: Core }).__lethe_cy = instance;
    container.current.dataset['ready'] = 'true';
    const element = container.current;
    return () => {
      delete element.dataset['ready'];
      instance.destroy();
      core.current = undefined;
    };
  }, [layout, props.graph, props.unobserved]);

  useEffect(() => {
    const instance = core.current;
    if (!instance) return;
    instance.elements(':selected').unselect();
    if (props.selected) instance.getElementById(props.selected).select();
  }, [props.selected, layout]);

  useImperativeHandle(
    props.controls,
    (): GraphControls => {
      const zoomBy = (factor: number) => {
        const instance = core.current;
        if (!instance) return;
        instance.zoom({
          level: instance.zoom() * factor,
          renderedPosition: { x: instance.width() / 2, y: instance.height() / 2 },
        });
      };
      return {
        zoomIn: () => zoomBy(1.25),
        zoomOut: () => zoomBy(0.8),
        fit: () => core.current?.fit(undefined, 24),
        reveal: (id) => {
          const instance = core.current;
          const node = instance?.getElementById(id);
          if (!instance || !node || node.empty()) return false;
          instance.nodes('.found').removeClass('found');
          node.addClass('found');
          instance.animate({ center: { eles: node }, zoom: Math.max(instance.zoom(), 1) }, { duration: 0 });
          return true;
        },
      };
    },
    [],
  );

  if (failure) return <p className="error-text">The map could not be laid out: {failure}</p>;
  return (
    <div
      className="graph"
      ref={container}
      data-testid="graph"
      role="img"
      aria-label="The data map as a graph; the list beside it holds the same elements."
    />
  );
}
