import { join } from 'node:path';
import { openPostgresStore } from './postgres/postgres-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface StoreLocation {
  /** `postgres://…` selects PostgreSQL; otherwise SQLite in `dataDir`. */
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  /**
   * Open only a store that exists (`StoreNotFoundError` for a missing database file or a database
   * without Lethe's schema) instead of creating one: every CLI command but `serve`.
   */
  readonly mustExist?: boolean | undefined;
  /**
   * SQLite: the module of the usage journal's fold worker (default the one beside the store's
   * code). Tests that run from the TypeScript sources pass the compiled one, which starts in a
   * fraction of the time a worker compiling the sources takes.
   */
  readonly foldWorker?: URL | undefined;
}

export const SQLITE_FILE_NAME = 'lethe.db';

export function openStore(location: StoreLocation): Promise<Store> {
  const url = location.databaseUrl;
  const { mustExist } = location;
  if (url && /^postgres(ql)?:\/\//.test(url)) return openPostgresStore({ url, mustExist });
  if (url) throw new Error(`DATABASE_URL must start with postgres:// (got ${url.split(':')[0]}:…)`);
  return openSqliteStore({
    file: join(location.dataDir, SQLITE_FILE_NAME),
    mustExist,
    foldWorker: location.foldWorker,
  });
}
