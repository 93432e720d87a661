import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Expire now (docs/retention.md, "Expire now"): a DPO's decision that a subject's fields are due
 * at once is kept on the field's expiry row — when, why and by whom — so every writer of expiries
 * (the fold, recomputes) sees it and never moves that field's expiry later again. The partial
 * index lets the fold find the few subjects with a decision without scanning the others.
 */
export const expireNowMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('field_expiries').addColumn('expire_now_at', 'bigint').execute();
    await db.schema.alterTable('field_expiries').addColumn('expire_reason', 'text').execute();
    await db.schema.alterTable('field_expiries').addColumn('expire_by', 'text').execute();
    await db.schema
      .createIndex('field_expiries_expire_now')
      .on('field_expiries')
      .column('subject')
      .where(sql<boolean>`expire_now_at is not null`)
      .execute();
  },
};
