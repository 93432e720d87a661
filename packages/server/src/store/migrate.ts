import { DEFAULT_MIGRATION_TABLE, Migrator, type Kysely } from 'kysely';
import { migrationProvider } from './migration-provider.js';
import type { Database } from './schema.js';
import type { BackendCapabilities } from './store.js';
import { StoreNotFoundError } from './store-not-found.js';

/**
 * Brings the schema up to date; throws with the failing migration's name. With `mustExist`, a
 * database in which no migration ever ran holds no Lethe store: it is refused, not created.
 */
export async function migrateToLatest(
  db: Kysely<Database>,
  capabilities: BackendCapabilities,
  options: { readonly mustExist?: boolean | undefined } = {},
): Promise<string[]> {
  if (options.mustExist) {
    const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
    if (!tables.some((table) => table.name === DEFAULT_MIGRATION_TABLE)) {
      throw new StoreNotFoundError(capabilities.description);
    }
  }
  const migrator = new Migrator({ db, provider: migrationProvider(capabilities) });
  const { error, results = [] } = await migrator.migrateToLatest();
  const failed = results.find((result) => result.status === 'Error');
  if (error) {
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${String(error)}`, {
      cause: error,
    });
  }
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
