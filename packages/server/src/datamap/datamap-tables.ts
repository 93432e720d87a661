/**
 * The data map: teams, flows, rights clients, taxonomy additions, discovery and what it observed, usage
 * links. Row types as Kysely sees them; `store/schema.ts` joins every feature's tables into `Database`.
 */
export interface DataMapTables {
  teams: TeamRow;
  flows: FlowRow;
  rights_clients: RightsClientRow;
  taxonomy_entries: TaxonomyEntryRow;
  discovery_sources: DiscoverySourceRow;
  observations: ObservationRow;
  usage_links: UsageLinkRow;
}

export interface TeamRow {
  name: string;
  description: string | null;
  contact: string | null;
  created_at: number;
  updated_at: number;
}

/** A declared flow: `from_system` transmits `categories` (JSON array) to `to_system`. */
export interface FlowRow {
  from_system: string;
  to_system: string;
  categories: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}

export interface RightsClientRow {
  name: string;
  system: string;
  protocol: string;
  address: string | null;
  created_at: number;
  updated_at: number;
}

/** The user's additions to a default taxonomy (`categories` or `purposes`). */
export interface TaxonomyEntryRow {
  taxonomy: 'categories' | 'purposes';
  key: string;
  description: string;
  special: number;
}

/** A Prometheus server or a list of `/metrics` targets that feed the data map. */
export interface DiscoverySourceRow {
  name: string;
  kind: 'prometheus' | 'scrape';
  /** The Prometheus base URL (kind prometheus). */
  url: string | null;
  /** JSON array of `/metrics` URLs (kind scrape). */
  targets: string | null;
  /** JSON of the metric/label name options (prefix, metrics, labels). */
  names: string;
  /** JSON map from a `data_type` label value to a category key. */
  data_types: string;
  interval_ms: number;
  stale_after_ms: number;
  created_at: number;
  updated_at: number;
  last_run_at: number | null;
  last_success_at: number | null;
  last_error: string | null;
}

/** One series a discovery source saw; see `datamap/datamap.ts` for what each column holds per kind. */
export interface ObservationRow {
  source: string;
  kind: 'transmit' | 'store' | 'client';
  team: string;
  system: string;
  target: string;
  data_type: string;
  protocol: string;
  category: string;
  first_seen_at: number;
  last_seen_at: number;
}

/** Per (system, field, policy): telemetry's uses, aggregated at ingest (drift, record of processing). */
export interface UsageLinkRow {
  system: string;
  field: string;
  policy: string;
  first_use_at: number;
  last_use_at: number;
  use_count: number;
}
