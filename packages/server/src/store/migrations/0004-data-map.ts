import { sql, type Kysely, type Migration } from 'kysely';
import type { BackendCapabilities } from '../store.js';
import { withoutRowIdClause } from './without-row-id.js';

/** The data map: system and policy details, teams, flows, rights clients, taxonomy, discovery. */
export function dataMapMigration(capabilities: BackendCapabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const withoutRowId = withoutRowIdClause(capabilities);
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
  };
}
