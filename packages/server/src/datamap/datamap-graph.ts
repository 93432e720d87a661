import type { DataMapGraph, GraphEdge, GraphNode } from '@lethe/api';
import type { DataMapSnapshot, Observation } from './datamap.js';
import type { Taxonomy } from '../lib/taxonomy.js';
import { toIso } from '../lib/time.js';

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

/**
 * A system that holds a category. `stores`: it stores a covered key (it may also receive one).
 * `receives`: a transmit edge carrying a covered key reaches it. `sends`: it sends a covered key
 * but neither stores nor receives one (where the data enters the map, e.g. a front end).
 */
export interface Holder {
  readonly system: string;
  readonly team?: string;
  readonly how: 'stores' | 'receives' | 'sends';
  /** Covered keys it stores, receives or sends, sorted. */
  readonly categories: string[];
  /**
   * The shortest path of system names from a storing (or sending) system to this one, both ends
   * included; `[system]` for `stores` and `sends`. A cycle that no storing or sending system reaches
   * starts at its alphabetically first member, whose `via` is then `[system]`.
   */
  readonly via: string[];
}

export interface Destination {
  readonly system: string;
  readonly team?: string;
  /** Shortest path of system names from the origin to this system, both included. */
  readonly path: string[];
  /** Hops from the origin (`path.length - 1`). */
  readonly depth: number;
  /** The (covered) categories on the last hop, sorted. */
  readonly categories: string[];
}

type NodeKind = GraphNode['kind'];
type EdgeKind = GraphEdge['kind'];

const DECLARED = 'declared';
/** The part of an edge that carries no category. */
const NO_CATEGORY = '';

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const NONE: readonly string[] = Object.freeze([]);

class Provenance {
  declared = false;
  /** Names of the sources that observed it, in first-seen order (few: a linear search is cheapest). */
  sources: readonly string[] = NONE;
  lastSeenAt = -Infinity;
  /** Observations that are not stale. */
  fresh = 0;

  observe(observation: Observation): void {
    this.addSource(observation.source);
    if (observation.lastSeenAt > this.lastSeenAt) this.lastSeenAt = observation.lastSeenAt;
    if (!observation.stale) this.fresh += 1;
  }

  addSource(source: string): void {
    if (!this.sources.includes(source)) this.sources = [...this.sources, source];
  }

  get stale(): boolean {
    return !this.declared && this.fresh === 0;
  }

  static merge(parts: readonly Provenance[]): Provenance {
    const merged = new Provenance();
    for (const part of parts) {
      merged.declared ||= part.declared;
      for (const source of part.sources) merged.addSource(source);
      if (part.lastSeenAt > merged.lastSeenAt) merged.lastSeenAt = part.lastSeenAt;
      merged.fresh += part.fresh;
    }
    return merged;
  }
}

const DECLARED_ONLY = [DECLARED];
/** Shared, never changed: a part not yet declared or observed, and one only declared. */
const UNSEEN = new Provenance();
const DECLARED_ONLY_PART = Object.assign(new Provenance(), { declared: true });

/**
 * Makes the wire objects, sharing the arrays and strings many of them hold (the same `sources`,
 * the same instants): an index of 50,000 flows makes ~80,000 edges.
 */
class Wiring {
  readonly #sources = new Map<string, string[]>();
  readonly #instants = new Map<number, string>();

  provenance(prov: Provenance): { sources: string[]; lastSeenAt?: string; stale: boolean } {
    let sources: string[];
    if (prov.sources.length === 0) sources = prov.declared ? DECLARED_ONLY : [];
    else {
      const key = prov.declared ? `${prov.sources.join('\n')}\n` : prov.sources.join('\n');
      let shared = this.#sources.get(key);
      if (!shared) {
        shared = prov.declared ? [...prov.sources, DECLARED] : [...prov.sources];
        shared.sort(byCodeUnit);
        this.#sources.set(key, shared);
      }
      sources = shared;
    }
    if (!Number.isFinite(prov.lastSeenAt)) return { sources, stale: prov.stale };
    let lastSeenAt = this.#instants.get(prov.lastSeenAt);
    if (lastSeenAt === undefined) {
      lastSeenAt = toIso(prov.lastSeenAt);
      this.#instants.set(prov.lastSeenAt, lastSeenAt);
    }
    return { sources, lastSeenAt, stale: prov.stale };
  }

  /** The wire edge of the parts at `indexes` (all of them when undefined). */
  edge(edge: EdgeEntry, indexes?: readonly number[]): GraphEdge {
    let categories: string[];
    let prov: Provenance;
    if (indexes === undefined) {
      categories = edge.keys[0] === NO_CATEGORY ? edge.keys.slice(1) : edge.keys;
      prov = edge.provs.length === 1 ? (edge.provs[0] as Provenance) : Provenance.merge(edge.provs);
    } else {
      categories = [];
      const provs: Provenance[] = [];
      for (const index of indexes) {
        const key = edge.keys[index] as string;
        if (key !== NO_CATEGORY) categories.push(key);
        provs.push(edge.provs[index] as Provenance);
      }
      prov = provs.length === 1 ? (provs[0] as Provenance) : Provenance.merge(provs);
    }
    const { sources, lastSeenAt, stale } = this.provenance(prov);
    return lastSeenAt === undefined
      ? { from: edge.from.id, to: edge.to.id, kind: edge.kind, categories, sources, stale }
      : { from: edge.from.id, to: edge.to.id, kind: edge.kind, categories, sources, lastSeenAt, stale };
  }
}

interface NodeEntry {
  readonly id: string;
  readonly kind: NodeKind;
  /** The name, key or address after the prefix. */
  readonly name: string;
  readonly prov: Provenance;
  label: string;
  /** A system's team came from its declaration (observed team labels do not override it). */
  declaredTeam: boolean;
  team: string | undefined;
  description: string | undefined;
  thirdParty: boolean | undefined;
  country: string | undefined;
  protocol: string | undefined;
  order: number;
  stale: boolean;
  wire: GraphNode;
  /** Every edge that starts or ends here. */
  readonly edges: EdgeEntry[];
  /** Outgoing edges by target; the kind follows from the ends' kinds. Dropped once built. */
  out: Map<NodeEntry, EdgeEntry> | undefined;
  /** Outgoing transmit edges, by target id. */
  readonly sends: EdgeEntry[];
}

interface EdgeEntry {
  readonly kind: EdgeKind;
  readonly from: NodeEntry;
  readonly to: NodeEntry;
  /** Part keys (categories; `''` for none), sorted once built, and their provenance. */
  keys: string[];
  provs: Provenance[];
  freshKeys: number;
  order: number;
  /** Everything. */
  full: GraphEdge;
  /** The non-stale parts; undefined when every part is stale. */
  fresh: GraphEdge | undefined;
}

const EMPTY_WIRE = {} as never;

export class DataMapIndex {
  readonly #nodes: ReadonlyMap<string, NodeEntry>;
  readonly #nodeList: readonly NodeEntry[];
  readonly #edgeList: readonly EdgeEntry[];
  /** Category key → the store and transmit edges carrying it. */
  readonly #byCategory: ReadonlyMap<string, readonly EdgeEntry[]>;
  readonly #whole: { fresh?: DataMapGraph; all?: DataMapGraph } = {};

  readonly #wiring: Wiring;
  readonly #categoryNodes: ReadonlyMap<string, NodeEntry>;

  private constructor(
    nodeList: readonly NodeEntry[],
    edgeList: readonly EdgeEntry[],
    byCategory: ReadonlyMap<string, readonly EdgeEntry[]>,
    wiring: Wiring,
  ) {
    this.#nodes = new Map(nodeList.map((entry) => [entry.id, entry]));
    this.#categoryNodes = new Map(
      nodeList.filter((entry) => entry.kind === 'category').map((entry) => [entry.name, entry]),
    );
    this.#nodeList = nodeList;
    this.#edgeList = edgeList;
    this.#byCategory = byCategory;
    this.#wiring = wiring;
  }

  static build(snapshot: DataMapSnapshot, categories: Taxonomy): DataMapIndex {
    const byKind: Record<NodeKind, Map<string, NodeEntry>> = {
      team: new Map(),
      system: new Map(),
      category: new Map(),
      client: new Map(),
    };
    const edges: EdgeEntry[] = [];

    const node = (kind: NodeKind, name: string): NodeEntry => {
      let entry = byKind[kind].get(name);
      if (!entry) {
        entry = {
          id: `${kind}:${name}`,
          kind,
          name,
          prov: new Provenance(),
          label: name,
          declaredTeam: false,
          team: undefined,
          description: undefined,
          thirdParty: undefined,
          country: undefined,
          protocol: undefined,
          order: 0,
          stale: false,
          wire: EMPTY_WIRE,
          edges: [],
          out: undefined,
          sends: [],
        };
        byKind[kind].set(name, entry);
      }
      return entry;
    };
    // The edge kind follows from the ends: team→system owns, team→client client,
    // system→category store, system→system transmit.
    // `part` finds or adds the edge and its part for `key`, and leaves the part's index in `at`.
    let at = 0;
    const part = (kind: EdgeKind, from: NodeEntry, to: NodeEntry, key: string): EdgeEntry => {
      from.out ??= new Map();
      let entry = from.out.get(to);
      if (!entry) {
        entry = {
          kind,
          from,
          to,
          keys: [],
          provs: [],
          freshKeys: 0,
          order: 0,
          full: EMPTY_WIRE,
          fresh: undefined,
        };
        from.out.set(to, entry);
        edges.push(entry);
      }
      let index = entry.keys.indexOf(key);
      if (index === -1) {
        index = entry.keys.length;
        entry.keys.push(key);
        entry.provs.push(UNSEEN);
      }
      at = index;
      return entry;
    };
    // Most parts are only declared: they share one provenance until observed.
    const declare = (kind: EdgeKind, from: NodeEntry, to: NodeEntry, key: string): void => {
      const entry = part(kind, from, to, key);
      const prov = entry.provs[at] as Provenance;
      if (prov === UNSEEN) entry.provs[at] = DECLARED_ONLY_PART;
      else prov.declared = true;
    };
    const observe = (
      kind: EdgeKind,
      from: NodeEntry,
      to: NodeEntry,
      key: string,
      observation: Observation,
    ) => {
      const entry = part(kind, from, to, key);
      let prov = entry.provs[at] as Provenance;
      if (prov === UNSEEN || prov === DECLARED_ONLY_PART) {
        const own = new Provenance();
        own.declared = prov.declared;
        entry.provs[at] = prov = own;
      }
      prov.observe(observation);
    };

    // Declarations.
    for (const team of snapshot.teams) {
      const entry = node('team', team.name);
      entry.prov.declared = true;
      if (team.description !== undefined) entry.description = team.description;
    }
    for (const system of snapshot.systems) {
      const entry = node('system', system.name);
      entry.prov.declared = true;
      entry.team = system.team;
      entry.declaredTeam = true;
      if (system.description !== undefined) entry.description = system.description;
      entry.thirdParty = system.thirdParty;
      if (system.country !== undefined) entry.country = system.country;
      const team = node('team', system.team);
      team.prov.declared = true;
      declare('owns', team, entry, NO_CATEGORY);
      for (const field of system.fields) {
        for (const key of field.categories) {
          const category = node('category', key);
          category.prov.declared = true;
          declare('store', entry, category, key);
        }
      }
    }
    for (const flow of snapshot.flows) {
      const from = node('system', flow.from);
      const to = node('system', flow.to);
      from.prov.declared = true;
      to.prov.declared = true;
      if (flow.categories.length === 0) declare('transmit', from, to, NO_CATEGORY);
      for (const key of flow.categories) {
        node('category', key).prov.declared = true;
        declare('transmit', from, to, key);
      }
    }
    for (const client of snapshot.clients) {
      const entry = node('client', client.address ?? client.name);
      if (!entry.prov.declared) entry.label = client.name; // the first declared client at an address names it
      entry.prov.declared = true;
      entry.protocol ??= client.protocol;
      const system = byKind.system.get(client.system);
      const teamName = system?.declaredTeam ? system.team : undefined;
      if (teamName !== undefined) {
        entry.team ??= teamName;
        declare('client', node('team', teamName), entry, NO_CATEGORY);
      }
    }

    // Observations.
    for (const observation of snapshot.observations) {
      const { kind, team: teamName, system: systemName, target, category: key } = observation;
      if (kind === 'client') {
        if (target === '') continue;
        const entry = node('client', target);
        entry.prov.observe(observation);
        if (!entry.protocol && observation.protocol) entry.protocol = observation.protocol;
        if (teamName !== '') {
          const team = node('team', teamName);
          team.prov.observe(observation);
          entry.team ??= teamName;
          observe('client', team, entry, NO_CATEGORY, observation);
        }
        continue;
      }
      if (systemName === '' || (kind === 'transmit' && target === '')) continue;
      const system = node('system', systemName);
      system.prov.observe(observation);
      if (teamName !== '') {
        const team = node('team', teamName);
        team.prov.observe(observation);
        if (!system.declaredTeam && (system.team === undefined || teamName < system.team))
          system.team = teamName;
        observe('owns', team, system, NO_CATEGORY, observation);
      }
      if (key !== '') node('category', key).prov.observe(observation);
      if (kind === 'transmit') {
        const to = node('system', target);
        to.prov.observe(observation);
        observe('transmit', system, to, key, observation);
      } else if (key !== '') {
        observe('store', system, node('category', key), key, observation);
      }
    }

    // Freeze: order, wire objects, adjacency and the category index.
    const wiring = new Wiring();
    const nodeList = Object.values(byKind)
      .flatMap((map) => [...map.values()])
      .sort((a, b) => byCodeUnit(a.id, b.id));
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
    edges.length = 0;
    for (const key of keys) {
      const from = nodeList[Math.floor(key / width) % width] as NodeEntry;
      const edge = from.out?.get(nodeList[key % width] as NodeEntry) as EdgeEntry;
      if (edge.kind !== kinds[Math.floor(key / width / width)]) throw new Error('edge order is inconsistent');
      edges.push(edge);
    }
    const byCategory = new Map<string, EdgeEntry[]>();
    edges.forEach((edge, order) => {
      edge.order = order;
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
    for (const key of this.#byCategory.keys()) {
      if (key === filter || key.startsWith(`${filter}.`) || filter.startsWith(`${key}.`)) covered.add(key);
    }
    return covered;
  }

  graph(filter: GraphFilter = {}): DataMapGraph {
    const includeStale = filter.includeStale === true;
    const visible = (entry: NodeEntry): boolean => includeStale || !entry.stale;
    const team = filter.team !== undefined ? this.#nodes.get(`team:${filter.team}`) : undefined;
    const system = filter.system !== undefined ? this.#nodes.get(`system:${filter.system}`) : undefined;
    if ((filter.team !== undefined && !team) || (filter.system !== undefined && !system)) {
      return { nodes: [], edges: [] };
    }
    if ((team && !visible(team)) || (system && !visible(system))) return { nodes: [], edges: [] };
    const covered = filter.category !== undefined ? this.coveredKeys(filter.category) : undefined;
    if (!team && !system && !covered) return this.#wholeGraph(includeStale);

    const view = (edge: EdgeEntry): GraphEdge | undefined =>
      visible(edge.from) && visible(edge.to) ? (includeStale ? edge.full : edge.fresh) : undefined;

    // Team scope: the team's systems.
    const teamSystems = new Set<NodeEntry>();
    if (team) {
      for (const edge of team.edges) if (edge.kind === 'owns' && view(edge)) teamSystems.add(edge.to);
    }
    // System scope: the closed neighbourhood.
    const neighbourhood = new Set<NodeEntry>();
    if (system) {
      neighbourhood.add(system);
      for (const edge of system.edges) {
        if (view(edge)) neighbourhood.add(edge.from === system ? edge.to : edge.from);
      }
    }
    // Category scope: the store/transmit view reduced to covered keys, and the systems holding one.
    const categoryView = (edge: EdgeEntry): GraphEdge | undefined =>
      covered && view(edge) ? reducedView(edge, includeStale, covered, this.#wiring) : undefined;
    const holdsCovered = new Map<NodeEntry, boolean>();
    const holds = (entry: NodeEntry): boolean => {
      let known = holdsCovered.get(entry);
      if (known === undefined) {
        known = entry.edges.some(
          (edge) => (edge.kind === 'store' || edge.kind === 'transmit') && categoryView(edge) !== undefined,
        );
        holdsCovered.set(entry, known);
      }
      return known;
    };

    // Candidates from the most selective filter; every filter is then applied to each.
    // Candidates map to their view when the category scope already computed it (null: none).
    const candidates = new Map<EdgeEntry, GraphEdge | null | undefined>();
    if (system) {
      for (const entry of neighbourhood) {
        if (entry.kind !== 'system' && entry.kind !== 'team') continue; // every edge has such an end
        for (const edge of entry.edges) {
          if (neighbourhood.has(edge.from) && neighbourhood.has(edge.to)) candidates.set(edge, undefined);
        }
      }
    } else if (team) {
      for (const edge of team.edges) candidates.set(edge, undefined);
      for (const entry of teamSystems) for (const edge of entry.edges) candidates.set(edge, undefined);
    } else if (covered) {
      for (const key of covered) {
        for (const edge of this.#byCategory.get(key) ?? []) {
          if (candidates.has(edge)) continue;
          const wire = categoryView(edge);
          candidates.set(edge, wire ?? null);
          if (!wire) continue;
          for (const end of edge.kind === 'transmit' ? [edge.from, edge.to] : [edge.from]) {
            if (holdsCovered.has(end)) continue;
            holdsCovered.set(end, true);
            for (const owns of end.edges) if (owns.kind === 'owns') candidates.set(owns, undefined);
          }
        }
      }
    }

    const keptEdges = new Map<number, GraphEdge>();
    const keptNodes = new Set<NodeEntry>();
    for (const [edge, known] of candidates) {
      if (known === null) continue;
      if (team && !(edge.from === team || teamSystems.has(edge.from) || teamSystems.has(edge.to))) continue;
      if (system && !(neighbourhood.has(edge.from) && neighbourhood.has(edge.to))) continue;
      let wire: GraphEdge | undefined = known;
      if (!wire) {
        if (!covered) wire = view(edge);
        else if (edge.kind === 'store' || edge.kind === 'transmit') wire = categoryView(edge);
        else if (edge.kind === 'owns') wire = holds(edge.to) ? view(edge) : undefined;
      }
      if (!wire) continue;
      keptEdges.set(edge.order, wire);
      keptNodes.add(edge.from);
      keptNodes.add(edge.to);
      if (edge.kind === 'transmit') {
        for (const key of wire.categories) {
          const category = this.#categoryNodes.get(key);
          if (category && visible(category)) keptNodes.add(category);
        }
      }
    }
    if (team) keptNodes.add(team);
    if (system) keptNodes.add(system);
    // Orders are distinct integers: a typed-array sort needs no comparator calls.
    const edgeOrders = Float64Array.from(keptEdges.keys()).sort();
    const nodeOrders = Float64Array.from(keptNodes, (entry) => entry.order).sort();
    return {
      nodes: Array.from(nodeOrders, (order) => (this.#nodeList[order] as NodeEntry).wire),
      edges: Array.from(edgeOrders, (order) => keptEdges.get(order) as GraphEdge),
    };
  }

  /** Which systems hold `category` (or a key below it); sorted by system name. */
  holders(category: string, options: QueryOptions = {}): Holder[] {
    const includeStale = options.includeStale === true;
    const covered = this.coveredKeys(category);
    const held = new Map<NodeEntry, Set<string>>();
    const hold = (entry: NodeEntry, keys: readonly string[]): void => {
      const set = held.get(entry) ?? new Set<string>();
      for (const key of keys) set.add(key);
      held.set(entry, set);
    };
    const storing = new Set<NodeEntry>();
    const sending = new Set<NodeEntry>();
    const receiving = new Set<NodeEntry>();
    const seen = new Set<EdgeEntry>();
    for (const key of covered) {
      for (const edge of this.#byCategory.get(key) ?? []) {
        if (seen.has(edge)) continue;
        seen.add(edge);
        const keys = carried(edge, includeStale, covered);
        if (!keys) continue;
        if (edge.kind === 'store') {
          storing.add(edge.from);
          hold(edge.from, keys);
        } else {
          sending.add(edge.from);
          receiving.add(edge.to);
          hold(edge.from, keys);
          hold(edge.to, keys);
        }
      }
    }
    const byOrder = (a: NodeEntry, b: NodeEntry): number => a.order - b.order;
    const roots = [
      ...storing,
      ...[...sending].filter((entry) => !storing.has(entry) && !receiving.has(entry)),
    ];
    const parents = this.#bfs(roots.sort(byOrder), includeStale, covered);
    // Cycles no storing or sending system reaches: start at their first member.
    for (const entry of [...receiving].sort(byOrder)) {
      if (!parents.has(entry)) this.#bfs([entry], includeStale, covered, parents);
    }

    const holders: Holder[] = [];
    for (const [entry, keys] of held) {
      const how = storing.has(entry) ? 'stores' : receiving.has(entry) ? 'receives' : 'sends';
      holders.push({
        system: entry.name,
        ...(entry.team !== undefined ? { team: entry.team } : {}),
        how,
        categories: [...keys].sort(byCodeUnit),
        via: how === 'receives' ? pathTo(entry, parents) : [entry.name],
      });
    }
    return holders.sort((a, b) => byCodeUnit(a.system, b.system));
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
    const parents = this.#bfs([start], includeStale, covered);
    const destinations: Destination[] = [];
    for (const [entry, edge] of parents) {
      if (!edge) continue;
      const path = pathTo(entry, parents);
      destinations.push({
        system: entry.name,
        ...(entry.team !== undefined ? { team: entry.team } : {}),
        path,
        depth: path.length - 1,
        categories: (carried(edge, includeStale, covered) ?? []).filter((key) => key !== NO_CATEGORY),
      });
    }
    return destinations.sort((a, b) => a.depth - b.depth || byCodeUnit(a.system, b.system));
  }

  /**
   * Breadth-first over transmit edges carrying a covered key (any key without `covered`), from all
   * roots at once. Maps each reached system to the edge it was first reached over (null for roots).
   */
  #bfs(
    roots: readonly NodeEntry[],
    includeStale: boolean,
    covered: ReadonlySet<string> | undefined,
    parents = new Map<NodeEntry, EdgeEntry | null>(),
  ): Map<NodeEntry, EdgeEntry | null> {
    const queue: NodeEntry[] = [];
    for (const root of roots) {
      if (parents.has(root)) continue;
      parents.set(root, null);
      queue.push(root);
    }
    for (let head = 0; head < queue.length; head++) {
      const entry = queue[head] as NodeEntry;
      for (const edge of entry.sends) {
        if (parents.has(edge.to) || (!includeStale && edge.to.stale)) continue;
        if (!carried(edge, includeStale, covered)) continue;
        parents.set(edge.to, edge);
        queue.push(edge.to);
      }
    }
    return parents;
  }

  #wholeGraph(includeStale: boolean): DataMapGraph {
    const key = includeStale ? 'all' : 'fresh';
    let whole = this.#whole[key];
    if (!whole) {
      const nodes = this.#nodeList.filter((entry) => includeStale || !entry.stale);
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

/**
 * The keys of `edge` that are visible and covered (all visible keys, `''` included, without
 * `covered`); undefined when none.
 */
function carried(
  edge: EdgeEntry,
  includeStale: boolean,
  covered: ReadonlySet<string> | undefined,
): string[] | undefined {
  const keys: string[] = [];
  for (let index = 0; index < edge.keys.length; index++) {
    const key = edge.keys[index] as string;
    if (covered && !covered.has(key)) continue;
    if (!includeStale && (edge.provs[index] as Provenance).stale) continue;
    keys.push(key);
  }
  return keys.length === 0 ? undefined : keys;
}

/** A store or transmit edge reduced to its visible covered keys; undefined when none. */
function reducedView(
  edge: EdgeEntry,
  includeStale: boolean,
  covered: ReadonlySet<string>,
  wiring: Wiring,
): GraphEdge | undefined {
  let count = 0;
  for (let index = 0; index < edge.keys.length; index++) {
    if (keeps(edge, index, includeStale, covered)) count += 1;
  }
  if (count === 0) return undefined;
  if (count === (includeStale ? edge.keys.length : edge.freshKeys))
    return includeStale ? edge.full : edge.fresh;
  const indexes: number[] = [];
  for (let index = 0; index < edge.keys.length; index++) {
    if (keeps(edge, index, includeStale, covered)) indexes.push(index);
  }
  return wiring.edge(edge, indexes);
}

function keeps(edge: EdgeEntry, index: number, includeStale: boolean, covered: ReadonlySet<string>): boolean {
  const key = edge.keys[index] as string;
  return (
    key !== NO_CATEGORY && covered.has(key) && (includeStale || !(edge.provs[index] as Provenance).stale)
  );
}

/** System names from the root of `entry`'s BFS tree to `entry`. */
function pathTo(entry: NodeEntry, parents: ReadonlyMap<NodeEntry, EdgeEntry | null>): string[] {
  const path: string[] = [];
  for (let at: NodeEntry | undefined = entry; at;) {
    path.push(at.name);
    const edge: EdgeEntry | null | undefined = parents.get(at);
    at = edge ? edge.from : undefined;
  }
  return path.reverse();
}
