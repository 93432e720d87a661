import type { DataMapDrift, DataMapGraph, Destination, Holder } from '@lethe/api';
import { pageOf, parseCursor } from './graph/graph-page.js';
import { summarizeGraph } from './graph/graph-summary.js';
import { maySeeCategories, visibleCategories } from '../auth/category-scope.js';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { findDrift } from './datamap-drift.js';
import { DataMapIndex, type GraphFilter } from './graph/datamap-graph.js';
import { TAXONOMY_KEY_PATTERN } from '../lib/taxonomy.js';
import { toIso } from '../lib/time.js';
import type { Store } from '../store/store.js';
import { snapshotOf, taxonomiesOf } from './datamap-snapshot.js';

interface BuiltIndex {
  readonly version: number;
  /** A discovered entry turns stale at this moment; the index is rebuilt then. */
  readonly validUntil: number;
  readonly index: DataMapIndex;
}

/** How a graph answer is shaped: whole, one page of edges, or counted. */
export interface GraphShape {
  readonly summary?: boolean;
  readonly limit?: number;
  readonly after?: string;
}

/**
 * The data map as a graph and the questions asked of it: which systems hold a category, where a
 * system sends it, and where the map disagrees with what telemetry and discovery observe.
 *
 * The graph is built in memory once per version of the map (every write to the map bumps it) and
 * answered from there: a filtered query over 5,000 systems and 50,000 flows is a walk over
 * precomputed adjacency lists, not SQL (docs/benchmarks.md).
 */
export class GraphService {
  private built: BuiltIndex | undefined;
  private building: Promise<BuiltIndex> | undefined;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  async graph(principal: Principal, filter: GraphFilter): Promise<DataMapGraph> {
    const { index } = await this.authorizedIndex(principal, filter);
    return this.answer(principal, index, filter);
  }

  /**
   * The graph answer as JSON text, shaped: `summary` counts it, `limit` pages its edges (after the
   * cursor `after`). `JSON.stringify` of the shaped answer is several times faster than the schema
   * serializer on megabytes (joining per-wire JSON texts made once per index was tried: slower,
   * docs/benchmarks.md).
   */
  async graphJson(principal: Principal, filter: GraphFilter & GraphShape): Promise<string> {
    if (filter.after !== undefined && filter.limit === undefined) {
      throw new AppError('VALIDATION_FAILED', '`after` pages an answer: it needs `limit`.');
    }
    const cursor = filter.after !== undefined ? parseCursor(filter.after) : undefined;
    if (filter.after !== undefined && !cursor) {
      throw new AppError('INVALID_CURSOR', `"${filter.after}" is not an edge cursor (kind:from->to).`);
    }
    if (filter.summary === true && filter.limit !== undefined) {
      throw new AppError('VALIDATION_FAILED', 'A summary is not paged: give `summary` or `limit`, not both.');
    }
    const { index } = await this.authorizedIndex(principal, filter);
    if (principal.categories === undefined) {
      // Nothing to hide: the index shapes the answer itself (for the category filter alone it
      // counts or pages without making the whole answer).
      this.requireKnown(index, filter);
      if (filter.summary === true) return JSON.stringify(index.summary(filter));
      if (filter.limit !== undefined) return JSON.stringify(index.page(filter, filter.limit, cursor));
      return JSON.stringify(index.graph(filter));
    }
    const graph = this.answer(principal, index, filter);
    if (filter.summary === true) return JSON.stringify(summarizeGraph(graph));
    if (filter.limit !== undefined) return JSON.stringify(pageOf(graph, filter.limit, cursor));
    return JSON.stringify(graph);
  }

  private async authorizedIndex(principal: Principal, filter: GraphFilter): Promise<BuiltIndex> {
    authorize(principal, 'systems:read');
    if (filter.category !== undefined) this.requireCategoryFilter(principal, filter.category);
    return this.current();
  }

  private answer(principal: Principal, index: DataMapIndex, filter: GraphFilter): DataMapGraph {
    this.requireKnown(index, filter);
    return visibleGraph(principal, index.graph(filter));
  }

  private requireKnown(index: DataMapIndex, filter: GraphFilter): void {
    if (filter.team !== undefined && !index.hasTeam(filter.team)) {
      throw new AppError('TEAM_NOT_FOUND', `No team named "${filter.team}" in the map.`);
    }
    if (filter.system !== undefined && !index.hasSystem(filter.system)) {
      throw new AppError('SYSTEM_NOT_FOUND', `No system named "${filter.system}" in the map.`);
    }
  }

  /** Which systems hold `category` (or a key below it): stores, plus every system a flow carries it to. */
  async holders(principal: Principal, category: string, includeStale = false): Promise<Holder[]> {
    authorize(principal, 'systems:read');
    this.requireCategoryFilter(principal, category);
    return (await this.index()).holders(category, { includeStale });
  }

  /** Where `system` sends data (of `category`, when given), transitively, by the shortest path. */
  async destinations(
    principal: Principal,
    system: string,
    category: string | undefined,
    includeStale = false,
  ): Promise<Destination[]> {
    authorize(principal, 'systems:read');
    if (category !== undefined) this.requireCategoryFilter(principal, category);
    else if (principal.categories !== undefined) {
      throw new AppError(
        'CATEGORY_NOT_PERMITTED',
        'A token limited to categories must name one (?category=).',
      );
    }
    const found = (await this.index()).destinations(system, category, { includeStale });
    if (!found) throw new AppError('SYSTEM_NOT_FOUND', `No system named "${system}" in the map.`);
    return found;
  }

  /** Observed versus declared; lists every category, so it needs a token without category limits. */
  async drift(principal: Principal): Promise<DataMapDrift> {
    authorize(principal, 'systems:read');
    if (principal.categories !== undefined) {
      throw new AppError(
        'CATEGORY_NOT_PERMITTED',
        'Drift lists every category; it needs a token without limits.',
      );
    }
    await this.store.freshAggregates();
    const { datamap } = this.store.repository;
    const [rows, links, taxonomyRows] = await Promise.all([
      datamap.loadRows(),
      datamap.listUsageLinks(),
      datamap.listTaxonomyEntries(),
    ]);
    const drift = findDrift(
      snapshotOf(rows, this.now()).snapshot,
      links.map((link) => ({
        system: link.system,
        field: link.field,
        policy: link.policy,
        firstUseAt: link.first_use_at,
        lastUseAt: link.last_use_at,
        count: link.use_count,
      })),
      taxonomiesOf(taxonomyRows).categories,
    );
    return {
      observing: drift.observing,
      undeclaredUses: drift.undeclaredUses.map((use) => ({ ...use, lastUseAt: toIso(use.lastUseAt) })),
      unobservedFlows: drift.unobservedFlows.map(({ lastSeenAt, ...flow }) => ({
        ...flow,
        ...(lastSeenAt !== undefined ? { lastSeenAt: toIso(lastSeenAt) } : {}),
      })),
      undeclaredFlows: drift.undeclaredFlows.map((flow) => ({ ...flow, lastSeenAt: toIso(flow.lastSeenAt) })),
      undeclaredCategories: drift.undeclaredCategories.map((flow) => ({
        ...flow,
        lastSeenAt: toIso(flow.lastSeenAt),
      })),
      undeclaredStores: drift.undeclaredStores.map((store) => ({
        ...store,
        lastSeenAt: toIso(store.lastSeenAt),
      })),
      unknownSystems: drift.unknownSystems.map((system) => ({
        ...system,
        lastSeenAt: toIso(system.lastSeenAt),
      })),
    };
  }

  private requireCategoryFilter(principal: Principal, category: string): void {
    if (!TAXONOMY_KEY_PATTERN.test(category)) {
      throw new AppError('INVALID_CATEGORY', `"${category}" is not a dotted category key.`);
    }
    if (!maySeeCategories(principal, [category])) {
      throw new AppError('CATEGORY_NOT_PERMITTED', `The token may not see category "${category}".`);
    }
  }

  /** The index for the current version of the map; one build at a time, shared by concurrent callers. */
  private async index(): Promise<DataMapIndex> {
    return (await this.current()).index;
  }

  private async current(): Promise<BuiltIndex> {
    const version = await this.store.repository.datamap.version();
    const built = this.built;
    if (built && built.version === version && this.now() < built.validUntil) return built;
    this.building ??= this.build().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  private async build(): Promise<BuiltIndex> {
    const { datamap } = this.store.repository;
    // The version is read first: a write landing during the load makes the next call rebuild.
    const version = await datamap.version();
    const [rows, taxonomyRows] = await Promise.all([datamap.loadRows(), datamap.listTaxonomyEntries()]);
    const { snapshot, validUntil } = snapshotOf(rows, this.now());
    const index = DataMapIndex.build(snapshot, taxonomiesOf(taxonomyRows).categories);
    this.built = { version, validUntil, index };
    return this.built;
  }
}

/** The graph without the categories a category-limited token may not see. */
function visibleGraph(principal: Principal, graph: DataMapGraph): DataMapGraph {
  if (principal.categories === undefined) return graph;
  const visible = (category: string) => maySeeCategories(principal, [category]);
  const nodes = graph.nodes.filter((node) => node.kind !== 'category' || visible(node.label));
  const kept = new Set(nodes.map((node) => node.id));
  const edges = graph.edges.flatMap((edge) => {
    if (!kept.has(edge.from) || !kept.has(edge.to)) return [];
    if (edge.kind !== 'transmit') return [edge];
    const categories = visibleCategories(principal, edge.categories);
    return categories.length ? [{ ...edge, categories }] : [];
  });
  return { nodes, edges };
}
