import type { DataMapGraph, GraphEdge } from '@lethe/api';
import type { EdgeEntry, NodeEntry } from './graph-entries.js';
import { keeps, reducedView, type GraphTables } from './graph-filter.js';

/**
 * The category filter alone (no team, no system): which edges and nodes it keeps, decided from the
 * index without making the answer's objects. `filteredGraph` with only `covered` set answers the
 * same; `graph-category.test.ts` compares them on a generated map.
 *
 * An edge is kept by one rule (`CategoryRule`): a store or transmit edge when it carries a visible
 * covered key, an owns edge when its system is at an end of such an edge. The whole answer reads
 * marks in typed arrays indexed by the edges' and nodes' order, made by walking each covered key's
 * edge list once (`categoryMarks`); a page decides only the edges it reads (`categoryPage`,
 * graph-category-page.ts). The summary applies the same rule to the index interned to integers
 * (`categorySummary`, graph-category-summary.ts); the tests compare it with this one.
 */
export class CategoryRule {
  readonly #holds = new Map<NodeEntry, boolean>();

  constructor(
    readonly tables: GraphTables,
    readonly covered: ReadonlySet<string>,
    readonly includeStale: boolean,
  ) {}

  visible(entry: NodeEntry): boolean {
    return this.includeStale || !entry.stale;
  }

  /** A store or transmit edge carries a visible covered key and both its ends are visible. */
  carries(edge: EdgeEntry): boolean {
    if (
      (edge.kind !== 'store' && edge.kind !== 'transmit') ||
      !this.visible(edge.from) ||
      !this.visible(edge.to)
    )
      return false;
    for (let index = 0; index < edge.keys.length; index++) {
      if (keeps(edge, index, this.includeStale, this.covered)) return true;
    }
    return false;
  }

  /** An owns edge is visible, whether or not its system holds a covered key. */
  ownsVisible(edge: EdgeEntry): boolean {
    return (
      this.visible(edge.from) &&
      this.visible(edge.to) &&
      (this.includeStale ? edge.full : edge.fresh) !== undefined
    );
  }

  /** Whether any edge kept for carrying a covered key ends at `system` (memoised per rule). */
  holds(system: NodeEntry): boolean {
    let known = this.#holds.get(system);
    if (known === undefined) {
      known = system.edges.some((edge) => this.carries(edge));
      this.#holds.set(system, known);
    }
    return known;
  }

  keeps(edge: EdgeEntry): boolean {
    if (edge.kind === 'owns') return this.ownsVisible(edge) && this.holds(edge.to);
    return this.carries(edge);
  }

  /** The kept edge's wire object: its own one, or one reduced to the covered keys for this answer. */
  wire(edge: EdgeEntry): GraphEdge {
    if (edge.kind === 'owns') return (this.includeStale ? edge.full : edge.fresh) as GraphEdge;
    return reducedView(edge, this.includeStale, this.covered, this.tables.wiring) as GraphEdge;
  }

  /** The visible category nodes of the covered keys a kept transmit edge carries. */
  categoryNodes(edge: EdgeEntry): NodeEntry[] {
    const nodes: NodeEntry[] = [];
    if (edge.kind !== 'transmit') return nodes;
    for (let index = 0; index < edge.keys.length; index++) {
      if (!keeps(edge, index, this.includeStale, this.covered)) continue;
      const node = this.tables.categoryNodes.get(edge.keys[index] as string);
      if (node && this.visible(node)) nodes.push(node);
    }
    return nodes;
  }
}

/** The kept edges and nodes, marked 1 at their order. */
interface CategoryMarks {
  readonly edges: Uint8Array;
  readonly nodes: Uint8Array;
}

/**
 * Profiled on 5,000 systems and 50,000 flows (docs/benchmarks.md), hashing edge and node objects
 * into Maps and Sets and sorting the kept orders cost most; a broad key (`user`) keeps nearly every
 * edge. Here each covered key's edge list is walked once, an edge is decided once, and a reader
 * scans the marks, which yields the answer sorted.
 */
function categoryMarks(rule: CategoryRule): CategoryMarks {
  const { nodeList, edgeList, byCategory } = rule.tables;
  const edges = new Uint8Array(edgeList.length);
  const decided = new Uint8Array(edgeList.length);
  const nodes = new Uint8Array(nodeList.length);
  /** Systems whose owns edges were already taken. */
  const holders = new Uint8Array(nodeList.length);
  const keepOwnsOf = (system: NodeEntry): void => {
    if (holders[system.order] === 1) return;
    holders[system.order] = 1;
    for (const owns of system.edges) {
      if (owns.kind !== 'owns' || !rule.ownsVisible(owns)) continue;
      edges[owns.order] = 1;
      nodes[owns.from.order] = 1;
      nodes[owns.to.order] = 1;
    }
  };
  for (const key of rule.covered) {
    for (const edge of byCategory.get(key) ?? []) {
      if (decided[edge.order] === 1) continue;
      decided[edge.order] = 1;
      if (!rule.carries(edge)) continue;
      edges[edge.order] = 1;
      nodes[edge.from.order] = 1;
      nodes[edge.to.order] = 1;
      keepOwnsOf(edge.from);
      if (edge.kind === 'transmit') keepOwnsOf(edge.to);
      for (const node of rule.categoryNodes(edge)) nodes[node.order] = 1;
    }
  }
  return { edges, nodes };
}

/** The whole answer of the category filter. */
export function categoryGraph(rule: CategoryRule): DataMapGraph {
  const marks = categoryMarks(rule);
  const { edgeList, nodeList } = rule.tables;
  const edges: GraphEdge[] = [];
  for (let order = 0; order < marks.edges.length; order++) {
    if (marks.edges[order] === 1) edges.push(rule.wire(edgeList[order] as EdgeEntry));
  }
  const nodes = [];
  for (let order = 0; order < marks.nodes.length; order++) {
    if (marks.nodes[order] === 1) nodes.push((nodeList[order] as NodeEntry).wire);
  }
  return { nodes, edges };
}
