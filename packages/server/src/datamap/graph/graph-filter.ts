import type { DataMapGraph, GraphEdge } from '@lethe/api';
import { NO_CATEGORY, type EdgeEntry, type NodeEntry } from './graph-entries.js';
import type { Provenance } from './graph-provenance.js';
import type { Wiring } from './graph-wiring.js';

/** The frozen index's tables a filtered graph is read from. */
export interface GraphTables {
  /** By order. */
  readonly nodeList: readonly NodeEntry[];
  /** By order. */
  readonly edgeList: readonly EdgeEntry[];
  /** Category key → the store and transmit edges carrying it. */
  readonly byCategory: ReadonlyMap<string, readonly EdgeEntry[]>;
  /** Category key → its node. */
  readonly categoryNodes: ReadonlyMap<string, NodeEntry>;
  readonly wiring: Wiring;
}

/** A graph filter resolved against the index: at least one of team, system and covered is set. */
export interface GraphScope {
  readonly team: NodeEntry | undefined;
  readonly system: NodeEntry | undefined;
  /** The keys the category filter covers (`DataMapIndex.coveredKeys`). */
  readonly covered: ReadonlySet<string> | undefined;
  readonly includeStale: boolean;
}

/** The part of the map a team, system and/or category filter keeps (see `DataMapIndex`). */
export function filteredGraph(tables: GraphTables, scope: GraphScope): DataMapGraph {
  const { team, system, covered, includeStale } = scope;
  const visible = (entry: NodeEntry): boolean => includeStale || !entry.stale;
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
    covered && view(edge) ? reducedView(edge, includeStale, covered, tables.wiring) : undefined;
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
      for (const edge of tables.byCategory.get(key) ?? []) {
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
        const category = tables.categoryNodes.get(key);
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
    nodes: Array.from(nodeOrders, (order) => (tables.nodeList[order] as NodeEntry).wire),
    edges: Array.from(edgeOrders, (order) => keptEdges.get(order) as GraphEdge),
  };
}

/** A store or transmit edge reduced to its visible covered keys; undefined when none. */
export function reducedView(
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

export function keeps(
  edge: EdgeEntry,
  index: number,
  includeStale: boolean,
  covered: ReadonlySet<string>,
): boolean {
  const key = edge.keys[index] as string;
  return (
    key !== NO_CATEGORY && covered.has(key) && (includeStale || !(edge.provs[index] as Provenance).stale)
  );
}
