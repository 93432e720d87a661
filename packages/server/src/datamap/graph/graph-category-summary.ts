import type { DataMapGraphSummary } from '@lethe/api';
import { EDGE_KINDS, NODE_KINDS, OWNS, TRANSMIT, type CompactGraph } from './graph-compact.js';
import { SUMMARY_TEAM_PAIRS } from './graph-summary.js';

/**
 * The summary of the category filter alone (no team, no system), counted off the compact index:
 * the same answer as `summarizeGraph(categoryGraph(rule))` for the rule of the same covered keys
 * (graph-category.ts keeps the rule for the whole answer and pages; test/datamap-graph-shapes.test.ts
 * and graph-category-summary.test.ts compare the two).
 *
 * `category=user` keeps nearly the whole map (~80,000 edges on 5,000 systems and 50,000 flows).
 * Profiled, deciding and counting edge objects into Maps keyed by strings cost most of its time
 * (docs/benchmarks.md); here a covered key's edges are walked once as integers, each edge decided
 * once, and every count is a typed-array slot: per edge kind, per category key id, per team pair id.
 */
export function categorySummary(
  graph: CompactGraph,
  covered: ReadonlySet<string>,
  includeStale: boolean,
): DataMapGraphSummary {
  const counts = countCategory(graph, covered, includeStale);
  return summaryOf(graph, counts);
}

interface CategoryCounts {
  /** Node order → 1 when the answer holds the node. */
  readonly nodes: Uint8Array;
  /** Kept edges per kind (`EDGE_KINDS`). */
  readonly edges: Int32Array;
  /** Kept store and transmit edges per key id. */
  readonly keys: Int32Array;
  /** Kept transmit edges per team pair id. */
  readonly pairs: Int32Array;
}

/**
 * The rule of `CategoryRule` on integers: a store or transmit edge is kept when both ends are
 * visible and it has a visible part of a covered key (its kept keys are those parts); then its
 * ends, the category nodes of a transmit edge's kept keys and the visible owns edges of its
 * systems are kept too.
 */
function countCategory(
  graph: CompactGraph,
  covered: ReadonlySet<string>,
  includeStale: boolean,
): CategoryCounts {
  const { byKey, parts, partStale, edgeKind, edgeFrom, edgeTo, edgeFresh } = graph;
  const { nodeStale, ownsOf, keyNode, edgePair } = graph;
  const coveredKey = new Uint8Array(graph.keys.length);
  for (const key of covered) {
    const id = graph.keyIds.get(key);
    if (id !== undefined) coveredKey[id] = 1;
  }
  const decided = new Uint8Array(edgeKind.length);
  const holders = new Uint8Array(nodeStale.length);
  const counts: CategoryCounts = {
    nodes: new Uint8Array(nodeStale.length),
    edges: new Int32Array(EDGE_KINDS.length),
    keys: new Int32Array(graph.keys.length),
    pairs: new Int32Array(graph.pairs.length),
  };
  const { nodes, edges, keys, pairs } = counts;
  const hidden = (node: number): boolean => !includeStale && nodeStale[node] === 1;
  /** The visible owns edges ending at `system`, once per system. */
  const keepOwnsOf = (system: number): void => {
    if (holders[system] === 1) return;
    holders[system] = 1;
    const end = ownsOf.start[system + 1] as number;
    for (let at = ownsOf.start[system] as number; at < end; at++) {
      const owns = ownsOf.items[at] as number;
      const team = edgeFrom[owns] as number;
      if (hidden(team) || hidden(system) || (!includeStale && edgeFresh[owns] === 0)) continue;
      increment(edges, OWNS);
      nodes[team] = 1;
      nodes[system] = 1;
    }
  };
  for (let key = 0; key < coveredKey.length; key++) {
    if (coveredKey[key] === 0) continue;
    const last = byKey.start[key + 1] as number;
    for (let at = byKey.start[key] as number; at < last; at++) {
      const edge = byKey.items[at] as number;
      if (decided[edge] === 1) continue;
      decided[edge] = 1;
      const from = edgeFrom[edge] as number;
      const to = edgeTo[edge] as number;
      if (hidden(from) || hidden(to)) continue;
      const kind = edgeKind[edge] as number;
      let kept = 0;
      const partsEnd = parts.start[edge + 1] as number;
      for (let part = parts.start[edge] as number; part < partsEnd; part++) {
        const partKey = parts.items[part] as number;
        if (partKey < 0 || coveredKey[partKey] === 0 || (!includeStale && partStale[part] === 1)) continue;
        kept += 1;
        increment(keys, partKey);
        const category = keyNode[partKey] as number;
        if (kind === TRANSMIT && category >= 0 && !hidden(category)) nodes[category] = 1;
      }
      if (kept === 0) continue;
      increment(edges, kind);
      nodes[from] = 1;
      nodes[to] = 1;
      keepOwnsOf(from);
      if (kind === TRANSMIT) {
        increment(pairs, edgePair[edge] as number);
        keepOwnsOf(to);
      }
    }
  }
  return counts;
}

/** The wire summary of the counts: categories by key, the team pairs with most flows first. */
function summaryOf(graph: CompactGraph, counts: CategoryCounts): DataMapGraphSummary {
  const nodes = new Int32Array(NODE_KINDS.length);
  counts.nodes.forEach((kept, node) => {
    if (kept === 1) increment(nodes, graph.nodeKind[node] as number);
  });
  const categories: DataMapGraphSummary['categories'] = [];
  counts.keys.forEach((edges, key) => {
    if (edges > 0) categories.push({ key: graph.keys[key] as string, edges });
  });
  // Most flows first, then the pair's code-unit order (its id): one number per pair, sorted
  // without a comparator.
  const pairCount = graph.pairs.length;
  let teamPairs = 0;
  let most = 0;
  for (const flows of counts.pairs) {
    if (flows > 0) teamPairs += 1;
    most = Math.max(most, flows);
  }
  const ranked = new Float64Array(teamPairs);
  let next = 0;
  counts.pairs.forEach((flows, id) => {
    if (flows > 0) ranked[next++] = (most - flows) * pairCount + id;
  });
  ranked.sort();
  const teamFlows = Array.from(ranked.subarray(0, SUMMARY_TEAM_PAIRS), (rank) => {
    const id = rank % pairCount;
    const { fromTeam, toTeam } = graph.pairs[id] as { fromTeam: string; toTeam: string };
    const flows = counts.pairs[id] as number;
    return { ...(fromTeam ? { fromTeam } : {}), ...(toTeam ? { toTeam } : {}), flows };
  });
  return {
    nodes: byKind(NODE_KINDS, nodes) as DataMapGraphSummary['nodes'],
    edges: byKind(EDGE_KINDS, counts.edges) as DataMapGraphSummary['edges'],
    categories,
    teamPairs,
    teamFlows,
  };
}

/** `counts[index] += 1` (a typed array's slot is read as possibly undefined). */
function increment(counts: Int32Array, index: number): void {
  counts[index] = (counts[index] as number) + 1;
}

function byKind(kinds: readonly string[], counts: Int32Array): Record<string, number> {
  return Object.fromEntries(kinds.map((kind, index) => [kind, counts[index] as number]));
}
