import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { HoldRow } from './hold-tables.js';

/** Legal holds: few rows (tens), read whole. */
export class HoldQueries {
  constructor(private readonly db: Kysely<Database>) {}

  list(): Promise<HoldRow[]> {
    return this.db.selectFrom('holds').selectAll().orderBy('name').execute();
  }

  get(name: string): Promise<HoldRow | undefined> {
    return this.db.selectFrom('holds').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async put(row: HoldRow): Promise<void> {
    // A changed hold keeps when and by whom it was first placed: it has stood since then.
    const { reason, subjects, systems, categories, policies, review_at, updated_at, updated_by } = row;
    await this.db
      .insertInto('holds')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          reason,
          subjects,
          systems,
          categories,
          policies,
          review_at,
          updated_at,
          updated_by,
        }),
      )
      .execute();
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('holds').where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
