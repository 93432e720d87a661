import type { DataMapGraph, DataMapGraphSummary, GraphEdge } from '@lethe/api';
import type { DataMapSnapshot } from '../datamap.js';
import { GraphBuilder } from './graph-builder.js';
import { CategoryRule, categoryGraph } from './graph-category.js';
import { categorySummary } from './graph-category-summary.js';
import { CompactGraph } from './graph-compact.js';
import { categoryPage } from './graph-category-page.js';
import { findDestinations, type Destination } from './graph-destinations.js';
import type { EdgeEntry, NodeEntry } from './graph-entries.js';
import { filteredGraph, type GraphScope, type GraphTables } from './graph-filter.js';
import { indexEdges, orderEdges, orderNodes } from './graph-freeze.js';
import { findHolders, type Holder } from './graph-holders.js';
import { pageOf, type EdgeCursor } from './graph-page.js';
import { summarizeGraph } from './graph-summary.js';
import { Wiring } from './graph-wiring.js';
import type { Taxonomy } from '../../lib/taxonomy.js';

/**
 * The data map as a graph: declared entries and discovery observations merged into one set of
 * nodes and edges, indexed once per snapshot (`DataMapIndex.build`) and then queried many times.
 *
 * Nodes: `team:NAME`, `system:NAME` (declared, or discovered: a `service`/`to_service` nobody
 * declared), `category:KEY` (every category stored or transmitted; `unknownCategory` when the key is
 * not in the taxonomy) and `client:ADDRESS` (a declared rights client without address is
 * `client:NAME`).
 *
 * Edges, one per (kind, from, to):
 *   owns      team → system      the declared team, and every team label observed on the system's series
 *   store     system → category  a declared field's category, or an observed `store` series
 *   transmit  system → system    declared flow categories ∪ observed `transmit` data types' categories
 *   client    team → client      always from the team: an observed series carries the team label, a
 *                                declared client hangs off the team of its system (none when that
 *                                system is not declared). The schema's single representation.
 *
 * Provenance on every node and edge: `sources` = sorted `'declared'` and/or the names of the
 * sources that observed it; `lastSeenAt` = the latest observation; `stale` = not declared and every
 * observation is stale. A transmit edge keeps provenance per category, so that an edge reduced to
 * some of its categories (category filter, stale categories hidden) shows the provenance of those.
 * Edge parts without a category (a declared flow with no categories, an observed series without
 * data type) count for the edge's provenance but never match a category filter.
 *
 * `graph(filter)` semantics; the filters combine with AND (an edge is kept when every given filter
 * keeps it):
 *   category  keeps store and transmit edges carrying a key the filter covers (`user.contact` covers
 *             `user.contact.email`) or a key above it (a `user.contact` flow may carry emails, so
 *             `user.contact.email` finds it); a transmit edge keeps only the matching categories. It also
 *             keeps the owns edges of every system at an end of such an edge (wherever that edge is).
 *   team      keeps the edges touching the team or one of its systems (the ends of its owns edges).
 *   system    keeps the edges among the system and its neighbours (the induced subgraph of its
 *             closed neighbourhood: a transmit edge between two neighbours is kept too).
 *   stale     nodes, edges and transmit categories that are stale are left out unless includeStale.
 * The result holds the kept edges, their end nodes, the node of every category they carry and the
 * filtered team and system themselves; without team, system or category it is the whole (visible)
 * map. Nodes are sorted by id, edges by kind, from and to (code-unit order). An unknown team or
 * system gives an empty graph (check with `hasTeam`/`hasSystem` to answer 404).
 *
 * `summary(filter)` and `page(filter, limit, after)` answer the same as `summarizeGraph` and `pageOf`
 * of `graph(filter)`; for the category filter alone they are read off the index without making the
 * whole answer (graph-category-summary.ts, graph-category-page.ts).
 *
 * The returned objects are shared between queries: treat them as read-only.
 */

export interface GraphFilter {
  readonly team?: string;
  readonly system?: string;
  readonly category?: string;
  readonly includeStale?: boolean;
}

export interface QueryOptions {
  readonly includeStale?: boolean;
}

export class DataMapIndex {
  readonly #nodes: ReadonlyMap<string, NodeEntry>;
  readonly #edgeList: readonly EdgeEntry[];
  readonly #tables: GraphTables;
  /** The same map interned to integers, for the category summary. */
  readonly #compact: CompactGraph;
  readonly #whole: { fresh?: DataMapGraph; all?: DataMapGraph } = {};

  private constructor(
    nodeList: readonly NodeEntry[],
    edgeList: readonly EdgeEntry[],
    byCategory: ReadonlyMap<string, readonly EdgeEntry[]>,
    wiring: Wiring,
  ) {
    this.#nodes = new Map(nodeList.map((entry) => [entry.id, entry]));
    const categoryNodes = new Map(
      nodeList.filter((entry) => entry.kind === 'category').map((entry) => [entry.name, entry]),
    );
    this.#edgeList = edgeList;
    this.#tables = { nodeList, edgeList, byCategory, categoryNodes, wiring };
    this.#compact = new CompactGraph(nodeList, edgeList);
  }

  static build(snapshot: DataMapSnapshot, categories: Taxonomy): DataMapIndex {
    const builder = new GraphBuilder();
    builder.declare(snapshot);
    builder.observe(snapshot.observations);
    // Freeze: order, wire objects, adjacency and the category index (then its integer form).
    const wiring = new Wiring();
    const nodeList = orderNodes(builder.nodes(), categories, wiring);
    const edges = orderEdges(builder.edges, nodeList);
    const byCategory = indexEdges(edges, wiring);
    for (const entry of nodeList) entry.out = undefined;
    return new DataMapIndex(nodeList, edges, byCategory, wiring);
  }

  hasSystem(name: string): boolean {
    return this.#nodes.has(`system:${name}`);
  }

  hasTeam(name: string): boolean {
    return this.#nodes.has(`team:${name}`);
  }

  /**
   * Every category key on a store or transmit edge that matches `filter`: the keys below it (a
   * parent covers its children) and the keys above it (a flow declared as `user.contact` may carry
   * `user.contact.email`, so it answers a question about emails).
   */
  coveredKeys(filter: string): Set<string> {
    const covered = new Set<string>();
    // Category keys are few next to edges: the prefix test runs once per distinct key.
    for (const key of this.#tables.byCategory.keys()) {
      if (key === filter || key.startsWith(`${filter}.`) || filter.startsWith(`${key}.`)) covered.add(key);
    }
    return covered;
  }

  graph(filter: GraphFilter = {}): DataMapGraph {
    const scope = this.#scope(filter);
    if (scope === 'empty') return { nodes: [], edges: [] };
    if (scope instanceof CategoryRule) return categoryGraph(scope);
    if (scope.team || scope.system || scope.covered) return filteredGraph(this.#tables, scope);
    return this.#wholeGraph(scope.includeStale);
  }

  /** `summarizeGraph(this.graph(filter))`, counted off the index for the category filter alone. */
  summary(filter: GraphFilter = {}): DataMapGraphSummary {
    const scope = this.#scope(filter);
    return scope instanceof CategoryRule
      ? categorySummary(this.#compact, scope.covered, scope.includeStale)
      : summarizeGraph(this.graph(filter));
  }

  /** `pageOf(this.graph(filter), limit, after)`, read page by page for the category filter alone. */
  page(filter: GraphFilter, limit: number, after: EdgeCursor | undefined): DataMapGraph {
    const scope = this.#scope(filter);
    return scope instanceof CategoryRule
      ? categoryPage(scope, limit, after)
      : pageOf(this.graph(filter), limit, after);
  }

  /**
   * The filter resolved against the index: `empty` for an unknown or hidden team or system, the
   * category rule for the category filter alone (its keys resolved first), the general scope else.
   */
  #scope(filter: GraphFilter): GraphScope | CategoryRule | 'empty' {
    const includeStale = filter.includeStale === true;
    const visible = (entry: NodeEntry): boolean => includeStale || !entry.stale;
    const team = filter.team !== undefined ? this.#nodes.get(`team:${filter.team}`) : undefined;
    const system = filter.system !== undefined ? this.#nodes.get(`system:${filter.system}`) : undefined;
    if ((filter.team !== undefined && !team) || (filter.system !== undefined && !system)) return 'empty';
    if ((team && !visible(team)) || (system && !visible(system))) return 'empty';
    const covered = filter.category !== undefined ? this.coveredKeys(filter.category) : undefined;
    if (!team && !system && covered) return new CategoryRule(this.#tables, covered, includeStale);
    return { team, system, covered, includeStale };
  }

  /** Which systems hold `category` (or a key below it); sorted by system name. */
  holders(category: string, options: QueryOptions = {}): Holder[] {
    return findHolders(this.#tables.byCategory, this.coveredKeys(category), options.includeStale === true);
  }

  /**
   * Where `system` sends `category` (any category when omitted), transitively, by depth and then
   * name; undefined for an unknown system.
   */
  destinations(system: string, category?: string, options: QueryOptions = {}): Destination[] | undefined {
    const start = this.#nodes.get(`system:${system}`);
    if (!start) return undefined;
    const includeStale = options.includeStale === true;
    if (!includeStale && start.stale) return [];
    const covered = category !== undefined ? this.coveredKeys(category) : undefined;
    return findDestinations(start, covered, includeStale);
  }

  #wholeGraph(includeStale: boolean): DataMapGraph {
    const key = includeStale ? 'all' : 'fresh';
    let whole = this.#whole[key];
    if (!whole) {
      const nodes = this.#tables.nodeList.filter((entry) => includeStale || !entry.stale);
      const edges: GraphEdge[] = [];
      for (const edge of this.#edgeList) {
        const wire = includeStale ? edge.full : edge.fresh;
        if (wire && (includeStale || (!edge.from.stale && !edge.to.stale))) edges.push(wire);
      }
      whole = { nodes: nodes.map((entry) => entry.wire), edges };
      this.#whole[key] = whole;
    }
    return { nodes: [...whole.nodes], edges: [...whole.edges] };
  }
}
