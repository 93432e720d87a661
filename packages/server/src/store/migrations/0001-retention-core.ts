import { sql, type Kysely, type Migration, type RawBuilder } from 'kysely';
import type { BackendCapabilities } from '../store.js';
import { withoutRowIdClause } from './without-row-id.js';

/** The catalog (policies, systems, datasets, fields), usages and expiries, erasures, signing keys. */
export function retentionCoreMigration(capabilities: BackendCapabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await createCatalogTables(db);
      await createUsageTables(db, withoutRowIdClause(capabilities));
      await createSigningKeyTable(db);
      await db
        .insertInto('meta' as never)
        .values({ key: 'catalog_version', value: '0' })
        .execute();
    },
  };
}

/** `meta` and the catalog: policies with their versions, systems with their datasets and fields. */
async function createCatalogTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('policies')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('retention', 'text', (c) => c.notNull())
    .addColumn('legal_basis', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .execute();
  await db.schema
    .createTable('policy_versions')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('retention', 'text', (c) => c.notNull())
    .addColumn('legal_basis', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('changed_at', 'bigint', (c) => c.notNull())
    .addColumn('changed_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('policy_versions_pk', ['name', 'version'])
    .execute();
  await db.schema
    .createTable('systems')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('team', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('datasets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('system', 'text', (c) => c.notNull().references('systems.name').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('datasets_system').on('datasets').column('system').execute();
  await db.schema
    .createTable('fields')
    .addColumn('field', 'text', (c) => c.primaryKey())
    .addColumn('dataset', 'text', (c) => c.notNull().references('datasets.name').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('categories', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('fields_dataset').on('fields').column('dataset').execute();
}

/** Seen event ids, usages, the field and subject expiries they decide, and erasures. */
async function createUsageTables(db: Kysely<unknown>, withoutRowId: RawBuilder<unknown>): Promise<void> {
  await db.schema
    .createTable('event_ids')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .modifyEnd(withoutRowId)
    .execute();
  // Tables keyed by subject first, so that Citus can distribute them by subject.
  await db.schema
    .createTable('usages')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('first_use_at', 'bigint', (c) => c.notNull())
    .addColumn('last_use_at', 'bigint', (c) => c.notNull())
    .addColumn('use_count', 'bigint', (c) => c.notNull())
    .addColumn('last_system', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('usages_pk', ['subject', 'field', 'policy'])
    .modifyEnd(withoutRowId)
    .execute();
  await db.schema
    .createTable('field_expiries')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('system', 'text', (c) => c.notNull())
    .addColumn('last_use_at', 'bigint', (c) => c.notNull())
    .addColumn('erased_at', 'bigint')
    .addColumn('reappeared_at', 'bigint')
    .addPrimaryKeyConstraint('field_expiries_pk', ['subject', 'field'])
    .modifyEnd(withoutRowId)
    .execute();
  await db.schema
    .createIndex('field_expiries_feed')
    .on('field_expiries')
    .columns(['expires_at', 'subject', 'field'])
    .execute();
  await db.schema
    .createTable('subject_expiries')
    .addColumn('subject', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('system', 'text', (c) => c.notNull())
    .modifyEnd(withoutRowId)
    .execute();
  await db.schema
    .createIndex('subject_expiries_feed')
    .on('subject_expiries')
    .columns(['expires_at', 'subject'])
    .execute();
  await db.schema
    .createTable('erasures')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('system', 'text', (c) => c.notNull())
    .addColumn('erased_at', 'bigint', (c) => c.notNull())
    .addColumn('recorded_at', 'bigint', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('erasures_subject').on('erasures').columns(['subject', 'field']).execute();
  // Re-appearances are rare; a partial index keeps listing them cheap without taxing ingest.
  await db.schema
    .createIndex('field_expiries_reappeared')
    .on('field_expiries')
    .columns(['reappeared_at', 'subject', 'field'])
    .where(sql.ref('reappeared_at'), 'is not', null)
    .execute();
}

/** Signing keys' public and private halves (0002 moves the private half to its own table). */
async function createSigningKeyTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}
