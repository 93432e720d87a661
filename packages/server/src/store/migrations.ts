import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { AUDIT_GENESIS_HASH } from '../audit/audit-chain.js';
import type { BackendCapabilities } from './store.js';

/**
 * Versioned migrations, run at start. Written once with Kysely's schema builder for both backends;
 * backend differences are capability flags, never a check of the backend's name.
 * Append new migrations; never edit one that has shipped.
 */
export function migrationProvider(capabilities: BackendCapabilities): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001-retention-core': {
      async up(db: Kysely<unknown>) {
        const withoutRowId = capabilities.withoutRowId ? sql.raw(' without rowid') : sql.raw('');
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
        await db.schema
          .createIndex('erasures_subject')
          .on('erasures')
          .columns(['subject', 'field'])
          .execute();
        // Re-appearances are rare; a partial index keeps listing them cheap without taxing ingest.
        await db.schema
          .createIndex('field_expiries_reappeared')
          .on('field_expiries')
          .columns(['reappeared_at', 'subject', 'field'])
          .where(sql.ref('reappeared_at'), 'is not', null)
          .execute();
        await db.schema
          .createTable('signing_keys')
          .addColumn('kid', 'text', (c) => c.primaryKey())
          .addColumn('algorithm', 'text', (c) => c.notNull())
          .addColumn('public_jwk', 'text', (c) => c.notNull())
          .addColumn('private_jwk', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db
          .insertInto('meta' as never)
          .values({ key: 'catalog_version', value: '0' })
          .execute();
      },
    },
    '0002-zero-trust': {
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
    },
    '0003-key-activation': {
      async up(db: Kysely<unknown>) {
        // Null for every existing key: it signs from its creation, as before.
        await db.schema.alterTable('signing_keys').addColumn('activates_at', 'bigint').execute();
      },
    },
    '0004-data-map': {
      async up(db: Kysely<unknown>) {
        const withoutRowId = capabilities.withoutRowId ? sql.raw(' without rowid') : sql.raw('');
        await db.schema
          .alterTable('systems')
          .addColumn('third_party', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable('systems').addColumn('country', 'text').execute();
        await db.schema.alterTable('systems').addColumn('safeguards', 'text').execute();
        for (const table of ['policies', 'policy_versions']) {
          await db.schema.alterTable(table).addColumn('data_subjects', 'text').execute();
          await db.schema.alterTable(table).addColumn('reviewed_on', 'text').execute();
        }
        await db.schema
          .createTable('teams')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('description', 'text')
          .addColumn('contact', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        // A flow goes when either end is removed: it cannot outlive the systems it joins.
        await db.schema
          .createTable('flows')
          .addColumn('from_system', 'text', (c) => c.notNull().references('systems.name').onDelete('cascade'))
          .addColumn('to_system', 'text', (c) => c.notNull().references('systems.name').onDelete('cascade'))
          .addColumn('categories', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('flows_pk', ['from_system', 'to_system'])
          .execute();
        await db.schema.createIndex('flows_to').on('flows').column('to_system').execute();
        await db.schema
          .createTable('rights_clients')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('system', 'text', (c) => c.notNull().references('systems.name').onDelete('cascade'))
          .addColumn('protocol', 'text', (c) => c.notNull())
          .addColumn('address', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('taxonomy_entries')
          .addColumn('taxonomy', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull())
          .addColumn('special', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('taxonomy_entries_pk', ['taxonomy', 'key'])
          .execute();
        await db.schema
          .createTable('discovery_sources')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('url', 'text')
          .addColumn('targets', 'text')
          .addColumn('names', 'text', (c) => c.notNull())
          .addColumn('data_types', 'text', (c) => c.notNull())
          .addColumn('interval_ms', 'bigint', (c) => c.notNull())
          .addColumn('stale_after_ms', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('last_run_at', 'bigint')
          .addColumn('last_success_at', 'bigint')
          .addColumn('last_error', 'text')
          .execute();
        await db.schema
          .createTable('observations')
          .addColumn('source', 'text', (c) =>
            c.notNull().references('discovery_sources.name').onDelete('cascade'),
          )
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('team', 'text', (c) => c.notNull())
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('data_type', 'text', (c) => c.notNull())
          .addColumn('protocol', 'text', (c) => c.notNull())
          .addColumn('category', 'text', (c) => c.notNull())
          .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('observations_pk', [
            'source',
            'kind',
            'team',
            'system',
            'target',
            'data_type',
            'protocol',
          ])
          .modifyEnd(withoutRowId)
          .execute();
        await db.schema
          .createTable('usage_links')
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('field', 'text', (c) => c.notNull())
          .addColumn('policy', 'text', (c) => c.notNull())
          .addColumn('first_use_at', 'bigint', (c) => c.notNull())
          .addColumn('last_use_at', 'bigint', (c) => c.notNull())
          .addColumn('use_count', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('usage_links_pk', ['system', 'field', 'policy'])
          .modifyEnd(withoutRowId)
          .execute();
        // Earlier telemetry kept only each use's latest system; that is the best link there is.
        await sql`insert into usage_links (system, field, policy, first_use_at, last_use_at, use_count)
          select last_system, field, policy, min(first_use_at), max(last_use_at), sum(use_count)
          from usages group by last_system, field, policy`.execute(db);
        await db
          .insertInto('meta' as never)
          .values({ key: 'datamap_version', value: '0' })
          .execute();
      },
    },
    '0005-rights-requests': {
      async up(db: Kysely<unknown>) {
        const withoutRowId = capabilities.withoutRowId ? sql.raw(' without rowid') : sql.raw('');
        const table = (name: string) => db.schema.createTable(name);
        await table('rights_requests')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('strategy', 'text', (c) => c.notNull())
          .addColumn('jurisdiction', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('identifiers_sealed', 'text')
          .addColumn('identifier_kinds', 'text', (c) => c.notNull())
          .addColumn('masked', 'text', (c) => c.notNull())
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .addColumn('due_at', 'bigint', (c) => c.notNull())
          .addColumn('extended_at', 'bigint')
          .addColumn('extended_by', 'text')
          .addColumn('extension_reason', 'text')
          .addColumn('receipt_due_at', 'bigint')
          .addColumn('receipt_confirmed_at', 'bigint')
          .addColumn('receipt_confirmed_by', 'text')
          .addColumn('verification_required', 'integer', (c) => c.notNull())
          .addColumn('verified_at', 'bigint')
          .addColumn('verified_by', 'text')
          .addColumn('verification_method', 'text')
          .addColumn('approval_required', 'integer', (c) => c.notNull())
          .addColumn('approved_at', 'bigint')
          .addColumn('approved_by', 'text')
          .addColumn('status_reason', 'text')
          .addColumn('status_changed_by', 'text')
          .addColumn('previously_erased_by', 'text')
          .addColumn('rows_found', 'bigint', (c) => c.notNull())
          .addColumn('actor_id', 'text', (c) => c.notNull())
          .addColumn('actor_role', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('started_at', 'bigint')
          .addColumn('completed_at', 'bigint')
          .addColumn('pii_expires_at', 'bigint')
          .addColumn('delivered_at', 'bigint')
          .addColumn('pii_destroyed_at', 'bigint')
          .execute();
        await db.schema
          .createIndex('rights_requests_status')
          .on('rights_requests')
          .columns(['status', 'due_at'])
          .execute();
        await table('request_keys')
          .addColumn('request_id', 'text', (c) =>
            c.primaryKey().references('rights_requests.id').onDelete('cascade'),
          )
          .addColumn('wrapped_key', 'text', (c) => c.notNull())
          .execute();
        await table('request_identifier_hashes')
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) =>
            c.notNull().references('rights_requests.id').onDelete('cascade'),
          )
          .addColumn('semantic', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('request_identifier_hashes_pk', ['hash', 'request_id'])
          .modifyEnd(withoutRowId)
          .execute();
        await db.schema
          .createIndex('request_identifier_hashes_request')
          .on('request_identifier_hashes')
          .column('request_id')
          .execute();
        await table('suppressions')
          .addColumn('hash', 'text', (c) => c.primaryKey())
          .addColumn('semantic', 'text', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('added_at', 'bigint', (c) => c.notNull())
          .execute();
        await table('suppression_hits')
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('count', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('suppression_hits_pk', ['request_id', 'subject', 'system'])
          .execute();
        await table('request_tasks')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('request_id', 'text', (c) =>
            c.notNull().references('rights_requests.id').onDelete('cascade'),
          )
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('target_kind', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('system', 'text')
          .addColumn('team', 'text')
          .addColumn('protocol', 'text', (c) => c.notNull())
          .addColumn('reasons', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('retry_base', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', 'bigint')
          .addColumn('lease_until', 'bigint')
          .addColumn('last_error', 'text')
          .addColumn('rows_found', 'bigint', (c) => c.notNull())
          .addColumn('rows_changed', 'bigint', (c) => c.notNull())
          .addColumn('started_at', 'bigint')
          .addColumn('completed_at', 'bigint')
          .addColumn('completed_by', 'text')
          .addColumn('note', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('request_tasks_target', ['request_id', 'target_kind', 'target'])
          .execute();
        await db.schema
          .createIndex('request_tasks_due')
          .on('request_tasks')
          .columns(['state', 'next_attempt_at'])
          .execute();
        await table('request_task_attempts')
          .addColumn('task_id', 'text', (c) => c.notNull().references('request_tasks.id').onDelete('cascade'))
          .addColumn('attempt', 'integer', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('finished_at', 'bigint')
          .addColumn('outcome', 'text')
          .addColumn('error', 'text')
          .addPrimaryKeyConstraint('request_task_attempts_pk', ['task_id', 'attempt'])
          .execute();
        await table('request_records')
          .addColumn('request_id', 'text', (c) =>
            c.notNull().references('rights_requests.id').onDelete('cascade'),
          )
          .addColumn('task_id', 'text', (c) => c.notNull().references('request_tasks.id').onDelete('cascade'))
          .addColumn('seq', 'bigint', (c) => c.notNull())
          .addColumn('datasource', 'text', (c) => c.notNull())
          .addColumn('pk', 'text', (c) => c.notNull())
          .addColumn('match_category', 'text', (c) => c.notNull())
          .addColumn('semantic', 'text', (c) => c.notNull())
          .addColumn('semantic_value_hash', 'text', (c) => c.notNull())
          .addColumn('sealed', 'text')
          .addColumn('pii_columns', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('request_records_pk', ['task_id', 'seq'])
          .execute();
        await db.schema
          .createIndex('request_records_request')
          .on('request_records')
          .column('request_id')
          .execute();
        await table('connectors')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('url_env', 'text', (c) => c.notNull())
          .addColumn('system', 'text')
          .addColumn('description', 'text')
          .addColumn('tables', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0006-field-keys': {
      async up(db: Kysely<unknown>) {
        // One key per (contract, key-link value, rotation period): the unique constraint is what
        // makes concurrent creation of the same key settle on one row.
        await db.schema
          .createTable('field_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('contract', 'text', (c) => c.notNull())
          .addColumn('key_link', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('period_start', 'bigint', (c) => c.notNull())
          .addColumn('period_end', 'bigint', (c) => c.notNull())
          .addColumn('wrapped', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('field_keys_period', ['contract', 'key_link', 'period_start'])
          .execute();
        await db.schema
          .createIndex('field_keys_active')
          .on('field_keys')
          .columns(['contract', 'key_link', 'period_end'])
          .execute();
        await db.schema.createIndex('field_keys_subject').on('field_keys').column('subject').execute();
        // What remains of a shredded key: which period it covered, never its material, so that
        // the key is not made again and readers can tell "shredded" from "unknown".
        await db.schema
          .createTable('field_key_tombstones')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('contract', 'text', (c) => c.notNull())
          .addColumn('key_link', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('period_start', 'bigint', (c) => c.notNull())
          .addColumn('period_end', 'bigint', (c) => c.notNull())
          .addColumn('shredded_at', 'bigint', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('field_key_tombstones_period')
          .on('field_key_tombstones')
          .columns(['contract', 'key_link', 'period_start'])
          .execute();
        await db.schema
          .createIndex('field_key_tombstones_subject')
          .on('field_key_tombstones')
          .column('subject')
          .execute();
      },
    },
    '0007-consent': {
      async up(db: Kysely<unknown>) {
        const withoutRowId = capabilities.withoutRowId ? sql.raw(' without rowid') : sql.raw('');
        // The history: one row per grant or withdrawal, never updated (GDPR Art. 7(1) proof).
        await db.schema
          .createTable('consent_events')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('purpose', 'text', (c) => c.notNull())
          .addColumn('granted', 'integer', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('recorded_at', 'bigint', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('recorded_by', 'text', (c) => c.notNull())
          .addColumn('recorder_role', 'text', (c) => c.notNull())
          .addColumn('source', 'text')
          .addColumn('notice', 'text')
          .addColumn('notice_version', 'text')
          .addColumn('method', 'text')
          .addColumn('channel', 'text')
          .addColumn('url', 'text')
          .addColumn('tc_string', 'text')
          .execute();
        await db.schema
          .createIndex('consent_events_subject')
          .on('consent_events')
          .columns(['subject', 'purpose', 'at'])
          .execute();
        // The state derived from the history, read by ingest under a share lock on PostgreSQL.
        await db.schema
          .createTable('consent_states')
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('purpose', 'text', (c) => c.notNull())
          .addColumn('granted_at', 'bigint')
          .addColumn('withdrawn_at', 'bigint')
          .addColumn('changed_at', 'bigint', (c) => c.notNull())
          .addColumn('last_event_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('consent_states_pk', ['subject', 'purpose'])
          .modifyEnd(withoutRowId)
          .execute();
        await db.schema
          .createTable('consent_violations')
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('policy', 'text', (c) => c.notNull())
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('purpose', 'text', (c) => c.notNull())
          .addColumn('first_at', 'bigint', (c) => c.notNull())
          .addColumn('last_at', 'bigint', (c) => c.notNull())
          .addColumn('use_count', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('consent_violations_pk', ['subject', 'policy', 'system'])
          .modifyEnd(withoutRowId)
          .execute();
        await db.schema
          .createIndex('consent_violations_last')
          .on('consent_violations')
          .columns(['last_at', 'subject', 'policy', 'system'])
          .execute();
        // Uses recorded before consent was tracked stay unconsented: nothing proves consent for them.
        await db.schema.alterTable('usages').addColumn('last_consented_use_at', 'bigint').execute();
      },
    },
    '0008-privacy-streams': {
      async up(db: Kysely<unknown>) {
        // Contract versions are immutable: a row is written once and never updated.
        await db.schema
          .createTable('contracts')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('contracts_pk', ['name', 'version'])
          .execute();
        // The base stream. `seq` is assigned by the appender while it holds the `stream_head` row
        // lock, so positions become visible in order (see StreamQueries.append). No subject
        // column: the subject id is usually personal, and the key row already ties key to subject.
        await db.schema
          .createTable('stream_events')
          .addColumn('seq', 'bigint', (c) => c.primaryKey())
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('contract', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text')
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .addColumn('consent', 'text', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('stream_head')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('seq', 'bigint', (c) => c.notNull())
          .execute();
        await db
          .insertInto('stream_head' as never)
          .values({ id: 1, seq: 0 })
          .execute();
      },
    },
    '0009-stream-exports': {
      async up(db: Kysely<unknown>) {
        // Exports of privacy streams to files or NATS: their configuration, where they are, and
        // which node runs each (a lease, so that only one node writes an export at a time).
        await db.schema
          .createTable('stream_exports')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('purposes', 'text')
          .addColumn('withheld', 'text', (c) => c.notNull())
          .addColumn('file_max_bytes', 'bigint')
          .addColumn('file_max_age_seconds', 'integer')
          .addColumn('nats_subject', 'text')
          .addColumn('config_version', 'integer', (c) => c.notNull())
          .addColumn('position', 'bigint', (c) => c.notNull())
          .addColumn('files_written', 'integer', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('last_error_at', 'bigint')
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0010-sign-in-codes': {
      async up(db: Kysely<unknown>) {
        // One-time sign-in links: the code's hash and the token it is traded for (see
        // session/sign-in-codes.ts). A row is deleted when used; expired ones when a new one is made.
        await db.schema
          .createTable('sign_in_codes')
          .addColumn('code_hash', 'text', (c) => c.primaryKey())
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('system', 'text')
          .addColumn('categories', 'text')
          .addColumn('grants', 'text')
          .addColumn('ttl_seconds', 'integer', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('sign_in_codes_expires')
          .on('sign_in_codes')
          .column('expires_at')
          .execute();
      },
    },
    '0011-stream-retention': {
      async up(db: Kysely<unknown>) {
        // The stream retention sweep deletes by event time.
        await db.schema.createIndex('stream_events_at').on('stream_events').column('at').execute();
      },
    },
  };
  return { getMigrations: async () => migrations };
}
