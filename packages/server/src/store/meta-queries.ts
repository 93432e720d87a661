import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** The `meta` table: small server-wide values by key. */
export class MetaQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores `value` under `key` unless a value is there already; returns the stored value. */
  async valueOrInsert(key: string, value: string): Promise<string> {
    await this.db
      .insertInto('meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const row = await this.db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    return row.value;
  }

  async value(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  /** Replaces `key`'s value if it is still `from` (compare-and-set); false when it was not. */
  async replaceValue(key: string, from: string, to: string): Promise<boolean> {
    const result = await this.db
      .updateTable('meta')
      .set({ value: to })
      .where('key', '=', key)
      .where('value', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
