import type { Kysely, Migration, RawBuilder } from 'kysely';
import type { BackendCapabilities } from '../store.js';
import { withoutRowIdClause } from './without-row-id.js';

/** Rights requests with their keys and identifier hashes, suppressions, tasks, records, connectors. */
export function rightsRequestsMigration(capabilities: BackendCapabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const withoutRowId = withoutRowIdClause(capabilities);
      await createRequestTables(db, withoutRowId);
      await createSuppressionTables(db);
      await createTaskTables(db);
      await createConnectorTable(db);
    },
  };
}

/** The requests, each one's own data key, and keyed hashes of its identifiers. */
async function createRequestTables(db: Kysely<unknown>, withoutRowId: RawBuilder<unknown>): Promise<void> {
  await db.schema
    .createTable('rights_requests')
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
  await db.schema
    .createTable('request_keys')
    .addColumn('request_id', 'text', (c) =>
      c.primaryKey().references('rights_requests.id').onDelete('cascade'),
    )
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('request_identifier_hashes')
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull().references('rights_requests.id').onDelete('cascade'))
    .addColumn('semantic', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('request_identifier_hashes_pk', ['hash', 'request_id'])
    .modifyEnd(withoutRowId)
    .execute();
  await db.schema
    .createIndex('request_identifier_hashes_request')
    .on('request_identifier_hashes')
    .column('request_id')
    .execute();
}

/** People erased by completed delete requests, and telemetry showing their data back. */
async function createSuppressionTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('suppressions')
    .addColumn('hash', 'text', (c) => c.primaryKey())
    .addColumn('semantic', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('added_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('suppression_hits')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('system', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('suppression_hits_pk', ['request_id', 'subject', 'system'])
    .execute();
}

/** The systems and databases each request must reach, their attempts and the records found. */
async function createTaskTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('request_tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull().references('rights_requests.id').onDelete('cascade'))
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
  await db.schema
    .createTable('request_task_attempts')
    .addColumn('task_id', 'text', (c) => c.notNull().references('request_tasks.id').onDelete('cascade'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addColumn('outcome', 'text')
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('request_task_attempts_pk', ['task_id', 'attempt'])
    .execute();
  await db.schema
    .createTable('request_records')
    .addColumn('request_id', 'text', (c) => c.notNull().references('rights_requests.id').onDelete('cascade'))
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
  await db.schema.createIndex('request_records_request').on('request_records').column('request_id').execute();
}

async function createConnectorTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('connectors')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('url_env', 'text', (c) => c.notNull())
    .addColumn('system', 'text')
    .addColumn('description', 'text')
    .addColumn('tables', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
