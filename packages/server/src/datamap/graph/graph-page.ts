import type { DataMapGraph, GraphEdge, GraphNode } from '@lethe/api';
import { byCodeUnit } from '../../lib/by-code-unit.js';

const KIND_RANK: Record<GraphEdge['kind'], number> = { client: 0, owns: 1, store: 2, transmit: 3 };

/** An edge's cursor: `kind:from->to`, the id the dashboard gives it. */
export const edgeCursor = (edge: GraphEdge): string => `${edge.kind}:${edge.from}->${edge.to}`;

/** A parsed `after`: where a page starts, in the edge order of graph answers. */
export interface EdgeCursor {
  readonly kind: number;
  readonly from: string;
  readonly to: string;
}

/** What the edge order (kind, from, to in code-unit order) compares of an edge. */
interface EdgeKey {
  readonly kind: GraphEdge['kind'];
  readonly from: string;
  readonly to: string;
}

/**
 * The position of the first of `length` edges in answer order that comes strictly after the
 * cursor: a binary search, so that a page starts without reading what comes before it.
 */
export function positionAfter(
  length: number,
  edgeAt: (position: number) => EdgeKey,
  cursor: EdgeCursor,
): number {
  let start = 0;
  let high = length;
  while (start < high) {
    const middle = (start + high) >>> 1;
    const edge = edgeAt(middle);
    const order =
      KIND_RANK[edge.kind] - cursor.kind ||
      byCodeUnit(edge.from, cursor.from) ||
      byCodeUnit(edge.to, cursor.to);
    if (order <= 0) start = middle + 1;
    else high = middle;
  }
  return start;
}

/** `kind:from->to` → its parts; undefined when it is not a cursor. */
export function parseCursor(after: string): EdgeCursor | undefined {
  const match = /^(client|owns|store|transmit):(.+?)->(.+)$/.exec(after);
  if (!match) return undefined;
  // Node ids hold no "->" before the kind prefix of the target ("system:", "category:", …).
  const [, kind, from, to] = match as unknown as [string, GraphEdge['kind'], string, string];
  return { kind: KIND_RANK[kind], from, to };
}

/**
 * One page of a graph answer: up to `limit` edges after the cursor `after` (in the answer's order)
 * and the nodes those edges touch, plus the category nodes a kept transmit edge carries. The nodes
 * no edge touches (a filtered team or system alone) come with the first page. `next` is set while
 * edges remain. A cursor names a position, not an edge: an edge that disappeared between two pages
 * does not break the walk.
 */
export function pageOf(graph: DataMapGraph, limit: number, after: EdgeCursor | undefined): DataMapGraph {
  const start = after
    ? positionAfter(graph.edges.length, (position) => graph.edges[position] as GraphEdge, after)
    : 0;
  const edges = graph.edges.slice(start, start + limit);
  const wanted = new Set<string>();
  for (const edge of edges) {
    wanted.add(edge.from);
    wanted.add(edge.to);
    if (edge.kind === 'transmit') for (const key of edge.categories) wanted.add(`category:${key}`);
  }
  if (!after) {
    const touched = new Set<string>();
    for (const edge of graph.edges) touched.add(edge.from).add(edge.to);
    for (const node of graph.nodes)
      if (!touched.has(node.id) && node.kind !== 'category') wanted.add(node.id);
  }
  const nodes: GraphNode[] = graph.nodes.filter((node) => wanted.has(node.id));
  const last = edges[edges.length - 1];
  return start + limit < graph.edges.length && last
    ? { nodes, edges, next: edgeCursor(last) }
    : { nodes, edges };
}
