import { Migrator, type Kysely } from 'kysely';
import { migrationProvider } from './migration-provider.js';
import type { Database } from './schema.js';
import type { BackendCapabilities } from './store.js';

/** Brings the schema up to date; throws with the failing migration's name. */
export async function migrateToLatest(
  db: Kysely<Database>,
  capabilities: BackendCapabilities,
): Promise<string[]> {
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
