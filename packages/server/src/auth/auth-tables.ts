/**
 * Signing keys: the public halves, kept for verification, and the private halves, wrapped. Row types as
 * Kysely sees them; `store/schema.ts` joins every feature's tables into `Database`.
 */
export interface AuthTables {
  signing_keys: SigningKeyRow;
  signing_key_secrets: SigningKeySecretRow;
}

/** The public half of a signing key; kept after the private half is destroyed. */
export interface SigningKeyRow {
  kid: string;
  algorithm: string;
  public_jwk: string;
  created_at: number;
  /**
   * When the key starts signing; null: from `created_at`. A scheduled rotation publishes the next
   * key ahead (see `auth/signing-keys.ts`), so that verifiers have it before it signs.
   */
  activates_at: number | null;
  /** When a newer key took over signing; the key verifies for one token lifetime more. */
  retired_at: number | null;
  /** Set when an operator withdrew the key at once (suspected leak): it verifies nothing after. */
  revoked_at: number | null;
}

export interface SigningKeySecretRow {
  kid: string;
  /** The private JWK wrapped under the master key: a `v1.…` envelope (`auth/master-key.ts`). */
  private_jwk: string;
}
