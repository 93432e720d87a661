import type { GraphEdge, GraphNode } from '@lethe/api';
import type { Provenance } from './graph-provenance.js';

/**
 * The mutable entries the data map index is built from and then queried through; each holds its
 * wire object (`wire`, `full`, `fresh`), made once when the index is built.
 */

export type NodeKind = GraphNode['kind'];
export type EdgeKind = GraphEdge['kind'];

/** The part of an edge that carries no category. */
export const NO_CATEGORY = '';

/** Placeholder for a wire object until the index is frozen. */
export const EMPTY_WIRE = {} as never;

export interface NodeEntry {
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

export interface EdgeEntry {
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
