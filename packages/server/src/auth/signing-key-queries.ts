import type { Kysely } from 'kysely';
import type { SigningKeyRow, SigningKeySecretRow } from './auth-tables.js';
import type { Database } from '../store/schema.js';

/** Signing keys: the public halves (kept to verify old tokens and checkpoints) and the private halves. */
export class SigningKeyQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** Every key's public half, newest first (destroyed and revoked keys included). */
  list(): Promise<SigningKeyRow[]> {
    return this.db
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('kid', 'desc')
      .execute();
  }

  /** The private half of a key as stored (wrapped under the master key), unless destroyed. */
  async secret(kid: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('signing_key_secrets')
      .select('private_jwk')
      .where('kid', '=', kid)
      .executeTakeFirst();
    return row?.private_jwk;
  }

  /** Every stored private half, as stored (wrapped under the master key). */
  secrets(): Promise<SigningKeySecretRow[]> {
    return this.db.selectFrom('signing_key_secrets').selectAll().orderBy('kid').execute();
  }

  /** Replaces a stored private half if it is still `from` (compare-and-set); false when it was not. */
  async replaceSecret(kid: string, from: string, to: string): Promise<boolean> {
    const result = await this.db
      .updateTable('signing_key_secrets')
      .set({ private_jwk: to })
      .where('kid', '=', kid)
      .where('private_jwk', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Kids whose private half is still stored. */
  async secretKids(): Promise<string[]> {
    const rows = await this.db.selectFrom('signing_key_secrets').select('kid').execute();
    return rows.map((row) => row.kid);
  }

  async insert(row: SigningKeyRow, privateJwk: string): Promise<void> {
    await this.db.insertInto('signing_keys').values(row).execute();
    await this.db
      .insertInto('signing_key_secrets')
      .values({ kid: row.kid, private_jwk: privateJwk })
      .execute();
  }

  async retire(kid: string, at: number): Promise<void> {
    await this.db
      .updateTable('signing_keys')
      .set({ retired_at: at })
      .where('kid', '=', kid)
      .where('retired_at', 'is', null)
      .execute();
  }

  async revoke(kid: string, at: number): Promise<void> {
    await this.db
      .updateTable('signing_keys')
      .set({ revoked_at: at })
      .where('kid', '=', kid)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Deletes a key entirely, both halves: only for a pending key, which never signed anything. */
  async delete(kid: string): Promise<void> {
    await this.db.deleteFrom('signing_key_secrets').where('kid', '=', kid).execute();
    await this.db.deleteFrom('signing_keys').where('kid', '=', kid).execute();
  }

  /** Destroys private halves: deletes the rows, the public halves stay. */
  async deleteSecrets(kids: readonly string[]): Promise<void> {
    if (kids.length === 0) return;
    await this.db.deleteFrom('signing_key_secrets').where('kid', 'in', kids).execute();
  }

  /** The public half of a signing key, kept after rotation to verify old checkpoints. */
  publicKey(kid: string): Promise<SigningKeyRow | undefined> {
    return this.db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
  }
}
