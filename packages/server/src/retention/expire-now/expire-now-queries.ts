import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { FieldExpiryRow } from '../retention-tables.js';

/** Expire now: the decision, written on the field's expiry row (docs/retention.md "Expire now"). */
export class ExpireNowQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async recordDecision(
    row: Pick<
      FieldExpiryRow,
      'subject' | 'field' | 'expires_at' | 'expire_now_at' | 'expire_reason' | 'expire_by'
    >,
  ): Promise<void> {
    await this.db
      .updateTable('field_expiries')
      .set({
        expires_at: row.expires_at,
        expire_now_at: row.expire_now_at,
        expire_reason: row.expire_reason,
        expire_by: row.expire_by,
      })
      .where('subject', '=', row.subject)
      .where('field', '=', row.field)
      .execute();
  }
}
