import type { DataMapGraph, GraphEdge, GraphNode } from '@lethe/api';
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import { useEffect, useRef } from 'react';

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
function shortCategory(key: string): string {
  const parts = key.split('.');
  return parts.length > 2 ? parts.slice(-2).join('.') : key;
}

export const edgeId = (edge: GraphEdge) => `${edge.kind}:${edge.from}->${edge.to}`;

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-size': 11,
      'text-valign': 'bottom',
      'text-margin-y': 4,
      'background-color': '#2856b6',
      width: 22,
      height: 22,
    },
  },
  {
    selector: 'node[kind = "team"]',
    style: { shape: 'round-rectangle', 'background-color': '#5b6576', width: 30 },
  },
  {
    selector: 'node[kind = "category"]',
    style: { shape: 'diamond', 'background-color': '#1e7a3c', width: 16, height: 16 },
  },
  { selector: 'node.label-above', style: { 'text-valign': 'top', 'text-margin-y': -4 } },
  { selector: 'node[kind = "client"]', style: { shape: 'triangle', 'background-color': '#8a5a00' } },
  {
    selector: 'edge',
    style: {
      width: 1.5,
      'line-color': '#9aa4b5',
      'target-arrow-color': '#9aa4b5',
      'target-arrow-shape': 'triangle',
      'curve-style': 'bezier',
    },
  },
  {
    selector: 'edge[kind = "transmit"]',
    style: { width: 3, 'line-color': '#2856b6', 'target-arrow-color': '#2856b6' },
  },
  // Drift: seen but never declared (red), declared but not seen by discovery (amber), gone quiet (grey).
  {
    selector: '.observed-only',
    style: {
      'line-color': '#b3261e',
      'target-arrow-color': '#b3261e',
      'line-style': 'dashed',
      'border-color': '#b3261e',
      'border-width': 3,
    },
  },
  {
    selector: '.unobserved',
    style: { 'line-color': '#d08a00', 'target-arrow-color': '#d08a00', 'line-style': 'dashed' },
  },
  { selector: '.stale', style: { opacity: 0.45, 'line-style': 'dotted' } },
  {
    selector: ':selected',
    style: { 'overlay-color': '#2856b6', 'overlay-opacity': 0.25, 'overlay-padding': 6 },
  },
];

/**
 * The data map drawn by Cytoscape.js. Selecting a node or an edge (click or tap) reports its id;
 * `selected` selects one from outside (the keyboard-usable list beside the graph).
 */
export function GraphView(props: {
  graph: DataMapGraph;
  unobserved: ReadonlySet<string>;
  selected: string | undefined;
  onSelect: (id: string | undefined) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const core = useRef<Core>(undefined);
  // Cytoscape's handlers are bound once per graph; they call the latest callback through this ref.
  const onSelect = useRef(props.onSelect);
  useEffect(() => {
    onSelect.current = props.onSelect;
  });

  useEffect(() => {
    if (!container.current) return;
    markCytoscapeStylesheetPresent();
    let categories = 0;
    const nodeElements: ElementDefinition[] = props.graph.nodes.map((node: GraphNode) => {
      const isCategory = node.kind === 'category';
      // Category keys are long and sit side by side: the last segment, every other one raised.
      const staggered = isCategory && categories++ % 2 === 1;
      return {
        group: 'nodes',
        data: { id: node.id, label: isCategory ? shortCategory(node.label) : node.label, kind: node.kind },
        classes: [provenanceOf(node, false), staggered ? 'label-above' : ''].join(' ').trim(),
      };
    });
    const edgeElements: ElementDefinition[] = props.graph.edges.map((edge) => ({
      group: 'edges',
      data: { id: edgeId(edge), source: edge.from, target: edge.to, kind: edge.kind },
      classes: provenanceOf(edge, props.unobserved.has(`${edge.from}->${edge.to}`)),
    }));
    const instance = cytoscape({
      container: container.current,
      elements: [...nodeElements, ...edgeElements],
      style: STYLE,
      layout: { name: 'breadthfirst', directed: true, spacingFactor: 1.1, animate: false },
      selectionType: 'single',
      wheelSensitivity: 0.3,
    });
    instance.on('select', 'node, edge', (event) =>
      onSelect.current((event.target as cytoscape.SingularElementReturnValue).id()),
    );
    instance.on('tap', (event) => {
      if (event.target === instance) onSelect.current(undefined);
    });
    core.current = instance;
    return () => {
      instance.destroy();
      core.current = undefined;
    };
  }, [props.graph, props.unobserved]);

  useEffect(() => {
    const instance = core.current;
    if (!instance) return;
    instance.elements(':selected').unselect();
    if (props.selected) instance.getElementById(props.selected).select();
  }, [props.selected, props.graph]);

  return (
    <div
      className="graph"
      ref={container}
      role="img"
      aria-label="The data map as a graph; the list beside it holds the same elements."
    />
  );
}
