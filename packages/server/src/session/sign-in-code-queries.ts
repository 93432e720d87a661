import type { Kysely } from 'kysely';
import type { SignInCodeRow } from './session-tables.js';
import type { Database } from '../store/schema.js';

/** One-time sign-in codes, by the hash of the code (the code itself is never stored). */
export class SignInCodeQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: SignInCodeRow): Promise<void> {
    await this.db.insertInto('sign_in_codes').values(row).execute();
  }

  /** The code's row while it is unused and unexpired (a read: the code stays usable). */
  find(codeHash: string, now: number): Promise<SignInCodeRow | undefined> {
    return this.db
      .selectFrom('sign_in_codes')
      .selectAll()
      .where('code_hash', '=', codeHash)
      .where('expires_at', '>', now)
      .executeTakeFirst();
  }

  /**
   * Uses the code up: deletes its row and returns it, or nothing when it is unknown, used or
   * expired. One statement, so two concurrent uses cannot both get the row: on PostgreSQL the
   * second DELETE waits for the first's row lock and then finds the row gone; on SQLite
   * transactions run one at a time.
   */
  consume(codeHash: string, now: number): Promise<SignInCodeRow | undefined> {
    return this.db
      .deleteFrom('sign_in_codes')
      .where('code_hash', '=', codeHash)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
  }

  /** Deletes the codes that expired unused; how many. */
  async deleteExpired(now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('sign_in_codes')
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
