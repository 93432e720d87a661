/**
 * Exports of privacy streams. Row types as Kysely sees them; `store/schema.ts` joins every feature's
 * tables into `Database`.
 */
export interface StreamExportTables {
  stream_exports: StreamExportRow;
}

/**
 * An export of a privacy stream (a view of it) to files or a NATS subject. `config_version` grows
 * with every change of the configuration, so runners know to restart; `position` is the base
 * stream position delivered up to (for file exports a copy of the manifest's, which rules);
 * `lease_owner`/`lease_until` say which node runs it.
 */
export interface StreamExportRow {
  name: string;
  target: string;
  /** JSON array of purposes; null for the base stream. */
  purposes: string | null;
  withheld: string;
  file_max_bytes: number | null;
  file_max_age_seconds: number | null;
  nats_subject: string | null;
  config_version: number;
  position: number;
  files_written: number;
  last_error: string | null;
  last_error_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
}
