import { byCodeUnit } from '../../lib/by-code-unit.js';
import {
  NO_CATEGORY,
  type EdgeEntry,
  type EdgeKind,
  type NodeEntry,
  type NodeKind,
} from './graph-entries.js';
import type { Provenance } from './graph-provenance.js';

/** Node kinds by number, in the order a summary lists them. */
export const NODE_KINDS: readonly NodeKind[] = ['team', 'system', 'category', 'client'];
/** Edge kinds by number, in the order a summary lists them. */
export const EDGE_KINDS: readonly EdgeKind[] = ['owns', 'store', 'transmit', 'client'];
export const OWNS = EDGE_KINDS.indexOf('owns');
export const STORE = EDGE_KINDS.indexOf('store');
export const TRANSMIT = EDGE_KINDS.indexOf('transmit');

/** A pair of teams transmit edges join; `''` for a system without team. */
export interface TeamPair {
  readonly fromTeam: string;
  readonly toTeam: string;
}

/**
 * The frozen index interned to integers, for the counts that read nearly the whole map (the
 * category summary, graph-category-summary.ts): nodes and edges by their order, category keys and
 * team pairs by their rank in code-unit order, and the lists an answer walks as typed arrays in
 * CSR form (`start[i]..start[i + 1]` indexes `items`). Built once per index, next to the entries;
 * a query then reads no object, hashes no string and allocates only its marks and counters.
 */
export class CompactGraph {
  /** Category keys of store and transmit edges, by code unit; a key's id is its position. */
  readonly keys: readonly string[];
  readonly keyIds: ReadonlyMap<string, number>;
  /** Key id → the order of its category node, -1 when there is none. */
  readonly keyNode: Int32Array;
  /** Key id → the store and transmit edges carrying it (edge orders, ascending). */
  readonly byKey: Csr;

  /** Node order → its kind's number (`NODE_KINDS`) and whether it is stale. */
  readonly nodeKind: Uint8Array;
  readonly nodeStale: Uint8Array;
  /** Node order → the owns edges ending at it (a system's teams). */
  readonly ownsOf: Csr;

  /** Edge order → its kind's number (`EDGE_KINDS`), its ends' orders, whether a part is fresh. */
  readonly edgeKind: Uint8Array;
  readonly edgeFrom: Int32Array;
  readonly edgeTo: Int32Array;
  readonly edgeFresh: Uint8Array;
  /** Edge order → its parts: key id (-1 for a part without category) and whether it is stale. */
  readonly parts: Csr;
  readonly partStale: Uint8Array;

  /** Team pairs of transmit edges, by code unit of `from\nto`; a pair's id is its position. */
  readonly pairs: readonly TeamPair[];
  /** Edge order → its team pair's id, -1 for an edge that is not a transmit edge. */
  readonly edgePair: Int32Array;

  constructor(nodeList: readonly NodeEntry[], edgeList: readonly EdgeEntry[]) {
    // Plain loops over the entries: `TypedArray.from` with a map function and `indexOf` per entry
    // made this a third of the index's build.
    const keySet = new Set<string>();
    for (const edge of edgeList) {
      if (edge.kind !== 'store' && edge.kind !== 'transmit') continue;
      for (const key of edge.keys) if (key !== NO_CATEGORY) keySet.add(key);
    }
    this.keys = [...keySet].sort(byCodeUnit);
    const keyIds = new Map(this.keys.map((key, id) => [key, id]));
    this.keyIds = keyIds;

    const nodeKinds = kindNumbers(NODE_KINDS);
    this.nodeKind = new Uint8Array(nodeList.length);
    this.nodeStale = new Uint8Array(nodeList.length);
    this.keyNode = new Int32Array(this.keys.length).fill(-1);
    for (const node of nodeList) {
      this.nodeKind[node.order] = nodeKinds[node.kind];
      this.nodeStale[node.order] = node.stale ? 1 : 0;
      const id = node.kind === 'category' ? keyIds.get(node.name) : undefined;
      if (id !== undefined) this.keyNode[id] = node.order;
    }

    const edgeKinds = kindNumbers(EDGE_KINDS);
    const edges = edgeList.length;
    this.edgeKind = new Uint8Array(edges);
    this.edgeFrom = new Int32Array(edges);
    this.edgeTo = new Int32Array(edges);
    this.edgeFresh = new Uint8Array(edges);
    for (const edge of edgeList) {
      this.edgeKind[edge.order] = edgeKinds[edge.kind];
      this.edgeFrom[edge.order] = edge.from.order;
      this.edgeTo[edge.order] = edge.to.order;
      this.edgeFresh[edge.order] = edge.fresh !== undefined ? 1 : 0;
    }
    // Parts in edge order, each edge's in key order: `parts.start` is a prefix sum of their counts.
    const partStart = new Int32Array(edges + 1);
    for (const edge of edgeList) partStart[edge.order + 1] = edge.keys.length;
    for (let edge = 0; edge < edges; edge++) {
      partStart[edge + 1] = (partStart[edge + 1] as number) + (partStart[edge] as number);
    }
    const partCount = partStart[edges] as number;
    const partKey = new Int32Array(partCount);
    const partEdge = new Int32Array(partCount);
    this.partStale = new Uint8Array(partCount);
    /** Store and transmit edges per key id, counted for `byKey`. */
    const perKey = new Int32Array(this.keys.length + 1);
    for (const edge of edgeList) {
      const first = partStart[edge.order] as number;
      const store = edge.kind === 'store' || edge.kind === 'transmit';
      for (let index = 0; index < edge.keys.length; index++) {
        const key = edge.keys[index] as string;
        const id = store && key !== NO_CATEGORY ? (keyIds.get(key) as number) : -1;
        partKey[first + index] = id;
        partEdge[first + index] = edge.order;
        this.partStale[first + index] = (edge.provs[index] as Provenance).stale ? 1 : 0;
        if (id >= 0) perKey[id + 1] = (perKey[id + 1] as number) + 1;
      }
    }
    this.parts = { start: partStart, items: partKey, owner: partEdge };
    for (let key = 0; key < this.keys.length; key++) {
      perKey[key + 1] = (perKey[key + 1] as number) + (perKey[key] as number);
    }
    const keyEdges = new Int32Array(perKey[this.keys.length] as number);
    const keyOf = new Int32Array(keyEdges.length);
    const next = perKey.slice(0, this.keys.length);
    for (let part = 0; part < partCount; part++) {
      const id = partKey[part] as number;
      if (id < 0) continue;
      const at = next[id] as number;
      next[id] = at + 1;
      keyEdges[at] = partEdge[part] as number;
      keyOf[at] = id;
    }
    this.byKey = { start: perKey, items: keyEdges, owner: keyOf };
    this.ownsOf = csr(nodeList.length, (add) => {
      for (const edge of edgeList) if (edge.kind === 'owns') add(edge.to.order, edge.order);
    });
    const { pairs, edgePair } = teamPairs(nodeList, edgeList);
    this.pairs = pairs;
    this.edgePair = edgePair;
  }
}

function kindNumbers<Kind extends string>(kinds: readonly Kind[]): Record<Kind, number> {
  return Object.fromEntries(kinds.map((kind, index) => [kind, index])) as Record<Kind, number>;
}

/**
 * The team pairs of transmit edges, ids in code-unit order of `from\nto` (the order a summary
 * breaks ties in), and each edge's pair id. Teams are numbered first, so that an edge's pair is
 * found by a number, not by a string made per edge.
 */
function teamPairs(
  nodeList: readonly NodeEntry[],
  edgeList: readonly EdgeEntry[],
): { pairs: TeamPair[]; edgePair: Int32Array } {
  const teamNames = [...new Set(nodeList.map((node) => node.team ?? ''))];
  const teamIds = new Map(teamNames.map((name, id) => [name, id]));
  const teamOf = Int32Array.from(nodeList, (node) => teamIds.get(node.team ?? '') as number);
  const width = teamNames.length;
  const byNumber = new Map<number, number>();
  const edgePair = new Int32Array(edgeList.length).fill(-1);
  for (const edge of edgeList) {
    if (edge.kind !== 'transmit') continue;
    const number = (teamOf[edge.from.order] as number) * width + (teamOf[edge.to.order] as number);
    let id = byNumber.get(number);
    if (id === undefined) {
      id = byNumber.size;
      byNumber.set(number, id);
    }
    edgePair[edge.order] = id;
  }
  const found = [...byNumber.keys()].map((number) => ({
    fromTeam: teamNames[Math.floor(number / width)] as string,
    toTeam: teamNames[number % width] as string,
  }));
  // Renumber in code-unit order of the pair's text.
  const order = found
    .map((pair, id) => ({ id, text: `${pair.fromTeam}\n${pair.toTeam}` }))
    .sort((a, b) => byCodeUnit(a.text, b.text));
  const rank = new Int32Array(found.length);
  order.forEach(({ id }, position) => (rank[id] = position));
  for (let edge = 0; edge < edgePair.length; edge++) {
    const id = edgePair[edge] as number;
    if (id >= 0) edgePair[edge] = rank[id] as number;
  }
  return { pairs: order.map(({ id }) => found[id] as TeamPair), edgePair };
}

/** Lists of integers per owner in compressed sparse row form: owner `i`'s items are `start[i]..start[i + 1]`. */
export interface Csr {
  readonly start: Int32Array;
  readonly items: Int32Array;
  /** Item position → its owner. */
  readonly owner: Int32Array;
}

/**
 * Builds a CSR from `fill`, which calls `add(owner, item)` for every item (owners in any order, each
 * owner's items in the order it adds them); `fill` runs twice, to count and then to place.
 */
function csr(owners: number, fill: (add: (owner: number, item: number) => void) => void): Csr {
  const start = new Int32Array(owners + 1);
  fill((owner) => (start[owner + 1] = (start[owner + 1] as number) + 1));
  for (let i = 0; i < owners; i++) start[i + 1] = (start[i + 1] as number) + (start[i] as number);
  const items = new Int32Array(start[owners] as number);
  const owner = new Int32Array(items.length);
  const next = start.slice(0, owners);
  fill((of, item) => {
    const at = next[of] as number;
    next[of] = at + 1;
    items[at] = item;
    owner[at] = of;
  });
  return { start, items, owner };
}
