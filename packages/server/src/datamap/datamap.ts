/**
 * The data map as the domain sees it: what people declared (API or manifest) and what discovery
 * sources observed (Prometheus `transmit`, `store` and `client` series). The two are kept apart —
 * discovery never rewrites a declaration — and merged only when the graph is built, so that the
 * difference between them can be shown as drift.
 */

export interface MapTeam {
  readonly name: string;
  readonly description?: string;
  readonly contact?: string;
}

export interface MapField {
  /** `dataset.field` */
  readonly field: string;
  readonly categories: readonly string[];
}

export interface MapSystem {
  readonly name: string;
  readonly team: string;
  readonly description?: string;
  readonly thirdParty: boolean;
  /** ISO 3166-1 alpha-2; undefined when not declared. */
  readonly country?: string;
  readonly safeguards?: string;
  /** The fields of the system's datasets: what it stores, by category. */
  readonly fields: readonly MapField[];
}

/** `from` transmits `categories` to `to`. */
export interface MapFlow {
  readonly from: string;
  readonly to: string;
  readonly categories: readonly string[];
  readonly description?: string;
}

export interface MapClient {
  readonly name: string;
  readonly system: string;
  readonly protocol: string;
  readonly address?: string;
}

export type ObservationKind = 'transmit' | 'store' | 'client';

/**
 * One series as a discovery source reports it, before Lethe stamps it. Label values are kept as
 * seen; `''` where the kind has no such label.
 *   transmit{team, service, to_service, data_type} → system = service, target = to_service
 *   store{team, service, data_type}                → system = service, target = ''
 *   client{team, address, protocol}                → system = '', target = address, dataType = ''
 */
export interface SeriesObservation {
  readonly kind: ObservationKind;
  readonly team: string;
  readonly system: string;
  readonly target: string;
  readonly dataType: string;
  readonly protocol: string;
}

/** A series as stored: which source saw it, the category its data type maps to, and when. */
export interface Observation extends SeriesObservation {
  readonly source: string;
  /** The taxonomy key `dataType` maps to, or `dataType` itself when it maps to none (`''` for clients). */
  readonly category: string;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  /** Not seen for longer than the source's `staleAfter` when the map was read. */
  readonly stale: boolean;
}

/** Everything the graph is built from, read in one go. */
export interface DataMapSnapshot {
  readonly teams: readonly MapTeam[];
  readonly systems: readonly MapSystem[];
  readonly flows: readonly MapFlow[];
  readonly clients: readonly MapClient[];
  readonly observations: readonly Observation[];
}

/** Telemetry's view of which system used which field under which policy (aggregated at ingest). */
export interface UsageLink {
  readonly system: string;
  readonly field: string;
  readonly policy: string;
  readonly firstUseAt: number;
  readonly lastUseAt: number;
  readonly count: number;
}
