import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openKeyedStore } from '../../src/auth/key-material.js';
import { createServices, type Services } from '../../src/services.js';
import { copyMigratedSqlite, createMigratedPostgres } from './store-templates.js';

/**
 * The store backends every conformance test runs against. PostgreSQL is required in CI
 * (CI=true); elsewhere a missing server skips its half of the suite with a message that says so.
 */
export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  /**
   * A fresh location for one test: a data dir, and for PostgreSQL a new database. Empty, or with
   * `migrated` a copy of a store with every migration applied and nothing else (a new
   * installation's first open, minus the migrations' time: see `store-templates.ts`).
   */
  create(
    options?: CreateOptions,
  ): Promise<{ dataDir: string; databaseUrl?: string; foldWorker?: URL; dispose(): Promise<void> }>;
}

/**
 * The compiled fold worker (the global setup, `build.ts`, brings `dist/` up to date before any
 * test): a worker started from the sources compiles them with tsx first, ~2 s more per SQLite store.
 */
export const COMPILED_FOLD_WORKER = new URL('../../dist/store/sqlite/sqlite-fold-worker.js', import.meta.url);

export interface CreateOptions {
  /** Start from the migrated template instead of an empty location (default false). */
  readonly migrated?: boolean;
}

export const POSTGRES_ADMIN_URL =
  process.env['LETHE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const sqlite: Backend = {
  name: 'sqlite',
  async create(options = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), 'lethe-test-'));
    if (options.migrated) await copyMigratedSqlite(dataDir);
    return {
      dataDir,
      foldWorker: COMPILED_FOLD_WORKER,
      dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  },
};

const postgres: Backend = {
  name: 'postgres',
  async create(options = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), 'lethe-test-'));
    const database = `lethe_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    if (options.migrated) await createMigratedPostgres(POSTGRES_ADMIN_URL, database);
    else await adminQuery(`create database ${database}`);
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${database}`;
    return {
      dataDir,
      databaseUrl: url.toString(),
      async dispose() {
        rmSync(dataDir, { recursive: true, force: true });
        await adminQuery(`drop database if exists ${database} with (force)`);
      },
    };
  },
};

/** Runs one statement as the PostgreSQL test admin (creating and dropping databases). */
export async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function postgresReachable(): Promise<boolean> {
  try {
    await adminQuery('select 1');
    return true;
  } catch (error) {
    if (process.env['CI'] === 'true') {
      throw new Error(
        `PostgreSQL is required in CI but not reachable at ${POSTGRES_ADMIN_URL}: ${String(error)}`,
      );
    }
    console.warn(
      `\n[lethe tests] PostgreSQL not reachable at ${POSTGRES_ADMIN_URL} (${String(error)}): ` +
        'the PostgreSQL half of the store suites is SKIPPED. Start PostgreSQL or set LETHE_TEST_POSTGRES_URL.\n',
    );
    return false;
  }
}

/** The backends available here: SQLite always, PostgreSQL when reachable (always in CI). */
export async function availableBackends(): Promise<Backend[]> {
  return (await postgresReachable()) ? [sqlite, postgres] : [sqlite];
}

export const ALL_BACKENDS: readonly Backend[] = [sqlite, postgres];
export { sqlite as SQLITE_BACKEND };

/** The services over a fresh, migrated location of `backend`; `dispose` closes the store and removes it. */
export async function openServices(
  backend: Backend,
): Promise<{ services: Services; dataDir: string; dispose(): Promise<void> }> {
  const location = await backend.create({ migrated: true });
  const { store, masterKey } = await openKeyedStore(location);
  return {
    services: createServices(store, masterKey),
    dataDir: location.dataDir,
    async dispose() {
      await store.close();
      await location.dispose();
    },
  };
}
