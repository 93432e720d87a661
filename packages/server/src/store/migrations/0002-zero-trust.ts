import { sql, type Kysely, type Migration } from 'kysely';
import { AUDIT_GENESIS_HASH } from '../../audit/audit-chain.js';

/** Private key halves in their own table, key retirement and revocation, the hash-chained audit log. */
export const zeroTrustMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // Private keys move to their own table so that destroying one is deleting a row, not
    // blanking a column beside the public half (which stays to verify old audit checkpoints).
    await db.schema
      .createTable('signing_key_secrets')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('private_jwk', 'text', (c) => c.notNull())
      .execute();
    await sql`insert into signing_key_secrets (kid, private_jwk) select kid, private_jwk from signing_keys`.execute(
      db,
    );
    await db.schema.alterTable('signing_keys').dropColumn('private_jwk').execute();
    await db.schema.alterTable('signing_keys').addColumn('retired_at', 'bigint').execute();
    await db.schema.alterTable('signing_keys').addColumn('revoked_at', 'bigint').execute();

    await db.schema
      .createTable('audit_log')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('request_id', 'text')
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    // One row holding the chain's head: appending updates it first, which serialises
    // appenders on PostgreSQL (row lock) without a backend-specific locking statement.
    await db.schema
      .createTable('audit_head')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    await db
      .insertInto('audit_head' as never)
      .values({ id: 1, seq: 0, hash: AUDIT_GENESIS_HASH })
      .execute();
    await db.schema
      .createTable('audit_checkpoints')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('kid', 'text', (c) => c.notNull())
      .addColumn('signature', 'text', (c) => c.notNull())
      .execute();
  },
};
