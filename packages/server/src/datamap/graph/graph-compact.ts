import { byCodeUnit } from '../../lib/by-code-unit.js';
import {
  NO_CATEGORY,
  type EdgeEntry,
  type EdgeKind,
  type NodeEntry,
  type NodeKind,
} from './graph-entries.js';

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
    const keySet = new Set<string>();
    for (const edge of edgeList) {
      if (edge.kind !== 'store' && edge.kind !== 'transmit') continue;
      for (const key of edge.keys) if (key !== NO_CATEGORY) keySet.add(key);
    }
    this.keys = [...keySet].sort(byCodeUnit);
    const keyIds = new Map(this.keys.map((key, id) => [key, id]));
    this.keyIds = keyIds;

    this.nodeKind = Uint8Array.from(nodeList, (node) => NODE_KINDS.indexOf(node.kind));
    this.nodeStale = Uint8Array.from(nodeList, (node) => (node.stale ? 1 : 0));
    this.keyNode = new Int32Array(this.keys.length).fill(-1);
    for (const node of nodeList) {
      const id = node.kind === 'category' ? keyIds.get(node.name) : undefined;
      if (id !== undefined) this.keyNode[id] = node.order;
    }

    this.edgeKind = Uint8Array.from(edgeList, (edge) => EDGE_KINDS.indexOf(edge.kind));
    this.edgeFrom = Int32Array.from(edgeList, (edge) => edge.from.order);
    this.edgeTo = Int32Array.from(edgeList, (edge) => edge.to.order);
    this.edgeFresh = Uint8Array.from(edgeList, (edge) => (edge.fresh !== undefined ? 1 : 0));
    this.parts = csr(edgeList.length, (add) => {
      for (const edge of edgeList) {
        for (const key of edge.keys) add(edge.order, key === NO_CATEGORY ? -1 : (keyIds.get(key) ?? -1));
      }
    });
    this.partStale = new Uint8Array(this.parts.items.length);
    for (const edge of edgeList) {
      const first = this.parts.start[edge.order] as number;
      edge.provs.forEach((prov, index) => (this.partStale[first + index] = prov.stale ? 1 : 0));
    }
    this.byKey = csr(this.keys.length, (add) => {
      for (let p = 0; p < this.parts.items.length; p++) {
        const key = this.parts.items[p] as number;
        if (key >= 0) add(key, this.parts.owner[p] as number);
      }
    });
    this.ownsOf = csr(nodeList.length, (add) => {
      for (const edge of edgeList) if (edge.kind === 'owns') add(edge.to.order, edge.order);
    });

    const pairKey = (edge: EdgeEntry): string => `${edge.from.team ?? ''}\n${edge.to.team ?? ''}`;
    const transmits = edgeList.filter((edge) => edge.kind === 'transmit');
    const pairKeys = [...new Set(transmits.map(pairKey))].sort(byCodeUnit);
    this.pairs = pairKeys.map((key) => {
      const [fromTeam, toTeam] = key.split('\n') as [string, string];
      return { fromTeam, toTeam };
    });
    const pairIds = new Map(pairKeys.map((key, id) => [key, id]));
    this.edgePair = new Int32Array(edgeList.length).fill(-1);
    for (const edge of transmits) this.edgePair[edge.order] = pairIds.get(pairKey(edge)) as number;
  }
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
