import type { GraphNode } from '@lethe/api';
import { byCodeUnit } from '../../lib/by-code-unit.js';
import { NO_CATEGORY, type EdgeEntry, type EdgeKind, type NodeEntry } from './graph-entries.js';
import type { Provenance } from './graph-provenance.js';
import type { Wiring } from './graph-wiring.js';
import type { Taxonomy } from '../../lib/taxonomy.js';

/**
 * Freezing a built graph: nodes and edges get their order and wire objects, edges their adjacency
 * and the category index. Run once per index, in this order: `orderNodes`, `orderEdges`, `indexEdges`.
 */

/** Sorts the nodes by id and makes each one's wire object; `order` is the position. */
export function orderNodes(nodes: NodeEntry[], categories: Taxonomy, wiring: Wiring): NodeEntry[] {
  const nodeList = nodes.sort((a, b) => byCodeUnit(a.id, b.id));
  nodeList.forEach((entry, order) => {
    entry.order = order;
    entry.stale = entry.prov.stale;
    const wire: GraphNode = {
      id: entry.id,
      kind: entry.kind,
      label: entry.label,
      sources: [],
      stale: false,
    };
    if (entry.team !== undefined) wire.team = entry.team;
    if (entry.description !== undefined) wire.description = entry.description;
    if (entry.thirdParty !== undefined) wire.thirdParty = entry.thirdParty;
    if (entry.country !== undefined) wire.country = entry.country;
    if (entry.protocol !== undefined) wire.protocol = entry.protocol;
    if (entry.kind === 'category' && !categories.has(entry.name)) wire.unknownCategory = true;
    entry.wire = Object.assign(wire, wiring.provenance(entry.prov));
  });
  return nodeList;
}

/** The edges sorted by kind, from and to, once the nodes are ordered. */
export function orderEdges(edges: readonly EdgeEntry[], nodeList: readonly NodeEntry[]): EdgeEntry[] {
  // Sorted by a numeric key (kind, from, to) in a typed array: no comparator calls. The key
  // leads back to its edge through the from node's `out` map.
  const kinds: EdgeKind[] = ['client', 'owns', 'store', 'transmit'];
  const rank: Record<EdgeKind, number> = { client: 0, owns: 1, store: 2, transmit: 3 };
  const width = nodeList.length;
  const keys = new Float64Array(edges.length);
  edges.forEach((edge, index) => {
    keys[index] = (rank[edge.kind] * width + edge.from.order) * width + edge.to.order;
  });
  keys.sort();
  const ordered: EdgeEntry[] = [];
  for (const key of keys) {
    const from = nodeList[Math.floor(key / width) % width] as NodeEntry;
    const edge = from.out?.get(nodeList[key % width] as NodeEntry) as EdgeEntry;
    if (edge.kind !== kinds[Math.floor(key / width / width)]) throw new Error('edge order is inconsistent');
    ordered.push(edge);
  }
  return ordered;
}

/**
 * Gives each edge (in order) its order, sorted parts and wire objects, links it to its ends, and
 * returns the category index: category key → the store and transmit edges carrying it.
 */
export function indexEdges(edges: readonly EdgeEntry[], wiring: Wiring): Map<string, EdgeEntry[]> {
  const byCategory = new Map<string, EdgeEntry[]>();
  edges.forEach((edge, order) => {
    edge.order = order;
    freezeEdge(edge, wiring);
    edge.from.edges.push(edge);
    edge.to.edges.push(edge);
    if (edge.kind === 'transmit') edge.from.sends.push(edge);
    if (edge.kind === 'store' || edge.kind === 'transmit') {
      for (const key of edge.keys) {
        if (key === NO_CATEGORY) continue;
        const list = byCategory.get(key);
        if (list) list.push(edge);
        else byCategory.set(key, [edge]);
      }
    }
  });
  return byCategory;
}

/** Sorts the edge's parts by key and makes its full and fresh wire objects. */
function freezeEdge(edge: EdgeEntry, wiring: Wiring): void {
  if (edge.keys.length > 1) {
    const sorted = edge.keys.map((key, index) => ({ key, prov: edge.provs[index] as Provenance }));
    sorted.sort((a, b) => byCodeUnit(a.key, b.key));
    edge.keys = sorted.map((part) => part.key);
    edge.provs = sorted.map((part) => part.prov);
  }
  let fresh = 0;
  for (const prov of edge.provs) if (!prov.stale) fresh += 1;
  edge.freshKeys = fresh;
  edge.full = wiring.edge(edge);
  if (fresh === edge.keys.length) edge.fresh = edge.full;
  else if (fresh > 0) {
    const indexes: number[] = [];
    edge.provs.forEach((prov, index) => prov.stale || indexes.push(index));
    edge.fresh = wiring.edge(edge, indexes);
  }
}
