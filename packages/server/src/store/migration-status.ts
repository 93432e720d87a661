import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DEFAULT_MIGRATION_TABLE, Kysely, Migrator, PostgresDialect, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migration-provider.js';
import { SQLITE_FILE_NAME, type StoreLocation } from './open-store.js';
import { redactUrl } from './postgres/postgres-store.js';
import { SQLITE_BUSY_TIMEOUT_MS } from './sqlite/sqlite-connection.js';
import type { BackendCapabilities } from './store.js';
import { StoreNotFoundError } from './store-not-found.js';

export interface MigrationStatus {
  /** The store, as in the server's log (`sqlite <file>`, `postgres <url without password>`). */
  readonly store: string;
  /** Migrations this release knows and the store has run, oldest first. */
  readonly applied: readonly string[];
  /** Migrations this release would run at its next start (or `lethe migrate`), in order. */
  readonly pending: readonly string[];
  /**
   * Migrations the store has run that this release does not know: it was opened by a newer
   * release. This release refuses to start on it (no downgrades: restore the backup instead).
   */
  readonly unknown: readonly string[];
}

/**
 * Which migrations a store has run and which this release would run, read without changing
 * anything: SQLite is opened read-only, PostgreSQL is only queried. Kysely's migration table is
 * the record (`migrate.ts`). A location without a Lethe store is a `StoreNotFoundError`, as for
 * every command but `lethe serve`.
 */
export async function migrationStatus(location: StoreLocation): Promise<MigrationStatus> {
  const { db, capabilities } = openForReading(location);
  try {
    const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
    if (!tables.some((table) => table.name === DEFAULT_MIGRATION_TABLE)) {
      throw new StoreNotFoundError(capabilities.description);
    }
    const known = await new Migrator({ db, provider: migrationProvider(capabilities) }).getMigrations();
    const { rows } = await sql<{
      name: string;
    }>`select name from ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(db);
    const knownNames = new Set(known.map((migration) => migration.name));
    return {
      store: capabilities.description,
      applied: known.filter((migration) => migration.executedAt).map((migration) => migration.name),
      pending: known.filter((migration) => !migration.executedAt).map((migration) => migration.name),
      unknown: rows
        .map((row) => row.name)
        .filter((name) => !knownNames.has(name))
        .sort(),
    };
  } finally {
    await db.destroy();
  }
}

/**
 * A Kysely over the location that can only read. The capabilities are the backends' own (see
 * `sqlite-store.ts`, `postgres-store.ts`): the migration provider needs them to build its list,
 * though only the names are used here.
 */
function openForReading(location: StoreLocation): { db: Kysely<unknown>; capabilities: BackendCapabilities } {
  const url = location.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    pool.on('error', () => {});
    return {
      db: new Kysely({ dialect: new PostgresDialect({ pool }) }),
      capabilities: { description: `postgres ${redactUrl(url)}`, withoutRowId: false, shared: true },
    };
  }
  if (url) throw new Error(`DATABASE_URL must start with postgres:// (got ${url.split(':')[0]}:…)`);
  const file = join(location.dataDir, SQLITE_FILE_NAME);
  if (!existsSync(file)) throw new StoreNotFoundError(`${dirname(file)} (it has no ${basename(file)})`);
  const database = new BetterSqlite3(file, {
    readonly: true,
    fileMustExist: true,
    timeout: SQLITE_BUSY_TIMEOUT_MS,
  });
  return {
    db: new Kysely({ dialect: new SqliteDialect({ database }) }),
    capabilities: { description: `sqlite ${file}`, withoutRowId: true, shared: false },
  };
}
