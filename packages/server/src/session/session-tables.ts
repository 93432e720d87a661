/**
 * One-time sign-in links. Row types as Kysely sees them; `store/schema.ts` joins every feature's tables
 * into `Database`.
 */
export interface SessionTables {
  sign_in_codes: SignInCodeRow;
}

/**
 * A one-time sign-in link's code (`lethe token create --link`), kept only as its SHA-256, with the
 * token it is traded for. The row is deleted when the code is used, so a used code is nowhere.
 */
export interface SignInCodeRow {
  /** base64url SHA-256 of the code. */
  code_hash: string;
  /** Names the link in the audit log (the code itself is never written anywhere). */
  id: string;
  subject: string;
  role: string;
  system: string | null;
  /** JSON array of category keys; null: every category. */
  categories: string | null;
  /** JSON array of grants; null: none. */
  grants: string | null;
  /** The token's lifetime, counted from the exchange. */
  ttl_seconds: number;
  /** The audit log's name of who made the link (`admin:cli:alice`). */
  created_by: string;
  created_at: number;
  expires_at: number;
}
