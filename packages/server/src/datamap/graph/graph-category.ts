import type { DataMapGraph, GraphEdge } from '@lethe/api';
import type { EdgeEntry, NodeEntry } from './graph-entries.js';
import { reducedView, type GraphTables } from './graph-filter.js';

/** An edge's state in one category query. */
const UNSEEN = 0;
const KEPT = 1;
const DROPPED = 2;

/**
 * The category filter alone (no team, no system): the same answer as `filteredGraph` with only
 * `covered` set, read from the category index with marks in typed arrays indexed by the edges' and
 * nodes' order instead of hash maps and a final sort.
 *
 * Profiled on 5,000 systems and 50,000 flows (docs/benchmarks.md), the general path spent its time
 * hashing edge and node objects into Maps and Sets and sorting the kept orders; a broad key (`user`)
 * keeps nearly every edge. Here each covered key's edge list (in order already) is walked once, an
 * edge is decided once, and the answer is read off the marks by a linear scan, which yields it
 * sorted.
 */
export function categoryGraph(
  tables: GraphTables,
  covered: ReadonlySet<string>,
  includeStale: boolean,
): DataMapGraph {
  const { edgeList, nodeList, byCategory, categoryNodes, wiring } = tables;
  const visible = (entry: NodeEntry): boolean => includeStale || !entry.stale;
  const edgeMarks = new Uint8Array(edgeList.length);
  const nodeMarks = new Uint8Array(nodeList.length);
  /** Systems whose owns edges were already taken: a system at the end of a kept edge holds the category. */
  const holders = new Uint8Array(nodeList.length);
  /** Edges reduced to some of their categories: their own wire object, made for this answer. */
  const reduced = new Map<number, GraphEdge>();

  const keepOwnsOf = (system: NodeEntry): void => {
    if (holders[system.order] === 1) return;
    holders[system.order] = 1;
    for (const owns of system.edges) {
      if (owns.kind !== 'owns' || edgeMarks[owns.order] !== UNSEEN) continue;
      if (!visible(owns.from) || !visible(owns.to) || !(includeStale ? owns.full : owns.fresh)) {
        edgeMarks[owns.order] = DROPPED;
        continue;
      }
      edgeMarks[owns.order] = KEPT;
      nodeMarks[owns.from.order] = 1;
      nodeMarks[owns.to.order] = 1;
    }
  };

  for (const key of covered) {
    for (const edge of byCategory.get(key) ?? []) {
      if (edgeMarks[edge.order] !== UNSEEN) continue;
      const wire =
        visible(edge.from) && visible(edge.to) ? reducedView(edge, includeStale, covered, wiring) : undefined;
      if (!wire) {
        edgeMarks[edge.order] = DROPPED;
        continue;
      }
      edgeMarks[edge.order] = KEPT;
      if (wire !== edge.full && wire !== edge.fresh) reduced.set(edge.order, wire);
      nodeMarks[edge.from.order] = 1;
      nodeMarks[edge.to.order] = 1;
      keepOwnsOf(edge.from);
      if (edge.kind === 'transmit') {
        keepOwnsOf(edge.to);
        for (const category of wire.categories) {
          const node = categoryNodes.get(category);
          if (node && visible(node)) nodeMarks[node.order] = 1;
        }
      }
    }
  }

  const edges: GraphEdge[] = [];
  for (let order = 0; order < edgeMarks.length; order++) {
    if (edgeMarks[order] !== KEPT) continue;
    const edge = edgeList[order] as EdgeEntry;
    edges.push(reduced.get(order) ?? ((includeStale ? edge.full : edge.fresh) as GraphEdge));
  }
  const nodes = [];
  for (let order = 0; order < nodeMarks.length; order++) {
    if (nodeMarks[order] === 1) nodes.push((nodeList[order] as NodeEntry).wire);
  }
  return { nodes, edges };
}
