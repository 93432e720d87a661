/**
 * Privacy streams: field keys and the tombstones of shredded ones, data contract versions, the base
 * stream. Row types as Kysely sees them; `store/schema.ts` joins every feature's tables into `Database`.
 */
export interface StreamTables {
  field_keys: FieldKeyRow;
  field_key_tombstones: FieldKeyTombstoneRow;
  contracts: ContractRow;
  stream_events: StreamEventRow;
  stream_head: StreamHeadRow;
}

/**
 * A privacy stream's field key: one per (contract, key-link value, rotation period
 * `[period_start, period_end)`). `wrapped` is the key material wrapped by the master key, never
 * the raw key. `key_link` and `subject` are personal data; `id` is random.
 */
export interface FieldKeyRow {
  id: string;
  contract: string;
  key_link: string;
  subject: string;
  period_start: number;
  period_end: number;
  wrapped: string;
  created_at: number;
}

/** A shredded field key: the period it covered and why it went, with no key material. */
export interface FieldKeyTombstoneRow {
  id: string;
  contract: string;
  key_link: string;
  subject: string;
  period_start: number;
  period_end: number;
  shredded_at: number;
  reason: string;
}

/** One version of a data contract; `body` is the DataContractInput as JSON. Never updated. */
export interface ContractRow {
  name: string;
  version: number;
  body: string;
  created_at: number;
}

/**
 * An event of the base stream: `data` (JSON) has every personal value as a field ciphertext;
 * `key_id` is the key they were made with (null when the event held no personal value).
 */
export interface StreamEventRow {
  seq: number;
  id: string;
  contract: string;
  key_id: string | null;
  at: number;
  received_at: number;
  /** JSON array of purpose keys. */
  consent: string;
  data: string;
}

/** The last position of the base stream; its row lock orders appends (one row, id 1). */
export interface StreamHeadRow {
  id: number;
  seq: number;
}
