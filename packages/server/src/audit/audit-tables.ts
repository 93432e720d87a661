/**
 * The audit log: its hash chain, the chain's head, and signed checkpoints. Row types as Kysely sees them;
 * `store/schema.ts` joins every feature's tables into `Database`.
 */
export interface AuditTables {
  audit_log: AuditRow;
  audit_head: AuditHeadRow;
  audit_checkpoints: AuditCheckpointRow;
}

export interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadRow {
  id: number;
  seq: number;
  hash: string;
}

/** The chain's head at `seq`, signed (compact JWS) with the signing key `kid`. */
export interface AuditCheckpointRow {
  seq: number;
  hash: string;
  at: number;
  kid: string;
  signature: string;
}
