/** The data map as a graph, who holds a category, where a system's data goes, and drift. */
import { Type, type Static } from 'typebox';
import { Instant } from './common.js';

/**
 * Where an entry of the graph is known from: `declared` (API or manifest) or the name of the
 * discovery source that saw it. An entry can be both, which is how drift is told apart.
 */
const Provenance = {
  sources: Type.Array(Type.String()),
  /** Last time a discovery source saw it; absent for declared-only entries. */
  lastSeenAt: Type.Optional(Instant),
  /** Discovered only, and not seen for longer than its source's `staleAfter`. */
  stale: Type.Boolean(),
};
export const GraphNode = Type.Object({
  /** `team:NAME`, `system:NAME`, `category:KEY` or `client:ADDRESS`. */
  id: Type.String(),
  kind: Type.Union([
    Type.Literal('team'),
    Type.Literal('system'),
    Type.Literal('category'),
    Type.Literal('client'),
  ]),
  label: Type.String(),
  team: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  thirdParty: Type.Optional(Type.Boolean()),
  country: Type.Optional(Type.String()),
  protocol: Type.Optional(Type.String()),
  /** Category nodes: a key outside the taxonomy (e.g. an unmapped Prometheus data_type). */
  unknownCategory: Type.Optional(Type.Boolean()),
  ...Provenance,
});
export type GraphNode = Static<typeof GraphNode>;
export const GraphEdge = Type.Object({
  from: Type.String(),
  to: Type.String(),
  /** owns: team → system; store: system → category; transmit: system → system; client: team → client. */
  kind: Type.Union([
    Type.Literal('owns'),
    Type.Literal('store'),
    Type.Literal('transmit'),
    Type.Literal('client'),
  ]),
  categories: Type.Array(Type.String()),
  ...Provenance,
});
export type GraphEdge = Static<typeof GraphEdge>;
export const DataMapGraph = Type.Object({
  nodes: Type.Array(GraphNode),
  edges: Type.Array(GraphEdge),
  /** With `?limit=`: the `after` of the next page; absent on the last one. */
  next: Type.Optional(Type.String()),
});
export type DataMapGraph = Static<typeof DataMapGraph>;

const byKind = <K extends string>(kinds: readonly K[]) =>
  Type.Object(
    Object.fromEntries(kinds.map((kind) => [kind, Type.Integer({ minimum: 0 })])) as Record<
      K,
      ReturnType<typeof Type.Integer>
    >,
  );
/** `?summary=true`: what a filter keeps, counted, for answers that would be megabytes. */
export const DataMapGraphSummary = Type.Object({
  nodes: byKind(['team', 'system', 'category', 'client'] as const),
  edges: byKind(['owns', 'store', 'transmit', 'client'] as const),
  /** Kept store and transmit edges per category key, by key. */
  categories: Type.Array(Type.Object({ key: Type.String(), edges: Type.Integer({ minimum: 0 }) })),
  /** How many (from team, to team) pairs kept transmit edges join. */
  teamPairs: Type.Integer({ minimum: 0 }),
  /** The 100 pairs with most kept transmit edges (absent team: a system without team), largest first. */
  teamFlows: Type.Array(
    Type.Object({
      fromTeam: Type.Optional(Type.String()),
      toTeam: Type.Optional(Type.String()),
      flows: Type.Integer({ minimum: 0 }),
    }),
  ),
});
export type DataMapGraphSummary = Static<typeof DataMapGraphSummary>;

export const Holder = Type.Object({
  system: Type.String(),
  team: Type.Optional(Type.String()),
  /** stores: keeps a covered category; receives: a flow brings it one; sends: passes one on without storing it. */
  how: Type.Union([Type.Literal('stores'), Type.Literal('receives'), Type.Literal('sends')]),
  categories: Type.Array(Type.String()),
  /** Shortest path of systems from where the data is held to this system, both ends included. */
  via: Type.Array(Type.String()),
});
export type Holder = Static<typeof Holder>;
export const Destination = Type.Object({
  system: Type.String(),
  team: Type.Optional(Type.String()),
  path: Type.Array(Type.String()),
  depth: Type.Integer(),
  categories: Type.Array(Type.String()),
});
export type Destination = Static<typeof Destination>;

const Seen = { sources: Type.Array(Type.String()), lastSeenAt: Instant };
/** Observed versus declared: where the map and reality disagree. */
export const DataMapDrift = Type.Object({
  /** Whether any discovery source has reported; without one, no flow can be "never observed". */
  observing: Type.Boolean(),
  /** Telemetry shows a system using a field another system declares (or none does). */
  undeclaredUses: Type.Array(
    Type.Object({
      system: Type.String(),
      field: Type.String(),
      owner: Type.Optional(Type.String()),
      policies: Type.Array(Type.String()),
      lastUseAt: Instant,
      count: Type.Integer(),
    }),
  ),
  /** Declared flows no discovery source has seen (or seen only long ago). */
  unobservedFlows: Type.Array(
    Type.Object({
      from: Type.String(),
      to: Type.String(),
      categories: Type.Array(Type.String()),
      sources: Type.Array(Type.String()),
      lastSeenAt: Type.Optional(Instant),
    }),
  ),
  /** Observed transmissions with no declared flow. */
  undeclaredFlows: Type.Array(
    Type.Object({ from: Type.String(), to: Type.String(), categories: Type.Array(Type.String()), ...Seen }),
  ),
  /** Declared flows observed carrying categories the declaration lacks. */
  undeclaredCategories: Type.Array(
    Type.Object({
      from: Type.String(),
      to: Type.String(),
      categories: Type.Array(Type.String()),
      declaredCategories: Type.Array(Type.String()),
      ...Seen,
    }),
  ),
  /** Observed stores of a category no declared field of the system covers. */
  undeclaredStores: Type.Array(
    Type.Object({
      system: Type.String(),
      category: Type.String(),
      systemDeclared: Type.Boolean(),
      unknownCategory: Type.Boolean(),
      ...Seen,
    }),
  ),
  /** Services seen by discovery that no system declares. */
  unknownSystems: Type.Array(Type.Object({ name: Type.String(), teams: Type.Array(Type.String()), ...Seen })),
});
export type DataMapDrift = Static<typeof DataMapDrift>;
