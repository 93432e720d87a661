import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.js';

/**
 * Migrated, empty stores that tests copy instead of migrating their own: running every migration
 * costs a second or more per store (SQLite and PostgreSQL alike), copying a migrated one a few
 * tens of milliseconds. A template holds the schema and what the migrations insert, nothing else:
 * no master key, no installation secret, no signing key (each test's store makes its own on first
 * open, as a new installation does). Templates are named by a hash of the migrations' sources, so
 * a changed migration gets a new template; they are shared by every worker and every run.
 */

const STORE_SOURCES = fileURLToPath(new URL('../../src/store/', import.meta.url));
const AUDIT_CHAIN = fileURLToPath(new URL('../../src/audit/audit-chain.ts', import.meta.url));

/** What the schema of a new store depends on: the migrations, their provider and their imports. */
function schemaHash(): string {
  const hash = createHash('sha256');
  const migrations = join(STORE_SOURCES, 'migrations');
  const files = [
    ...readdirSync(migrations)
      .sort()
      .map((name) => join(migrations, name)),
    join(STORE_SOURCES, 'migration-provider.ts'),
    AUDIT_CHAIN,
  ];
  for (const file of files) hash.update(file).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

const SCHEMA = schemaHash();

/** Copies a migrated SQLite store (its main and journal files) into the empty `dataDir`. */
export async function copyMigratedSqlite(dataDir: string): Promise<void> {
  const template = join(tmpdir(), `lethe-test-template-${SCHEMA}`);
  if (!existsSync(template)) {
    const building = mkdtempSync(`${template}-building-`);
    const store = await openStore({ dataDir: building });
    await store.close();
    try {
      // Published whole, by one rename: a worker that lost the race uses the winner's.
      renameSync(building, template);
    } catch {
      rmSync(building, { recursive: true, force: true });
    }
  }
  for (const name of readdirSync(template)) copyFileSync(join(template, name), join(dataDir, name));
}

let postgresTemplate: Promise<string> | undefined;

/**
 * Creates `database` as a copy of the migrated PostgreSQL template (`CREATE DATABASE … TEMPLATE`),
 * building the template first if no worker has yet (under an advisory lock, published by a rename).
 */
export async function createMigratedPostgres(adminUrl: string, database: string): Promise<void> {
  postgresTemplate ??= postgresTemplateOf(adminUrl);
  const template = await postgresTemplate;
  await withAdmin(adminUrl, (client) => client.query(`create database ${database} template ${template}`));
}

async function postgresTemplateOf(adminUrl: string): Promise<string> {
  const name = `lethe_template_${SCHEMA}`;
  await withAdmin(adminUrl, async (client) => {
    await client.query('select pg_advisory_lock(hashtext($1))', [name]);
    try {
      const found = await client.query('select 1 from pg_database where datname = $1', [name]);
      if (found.rowCount !== 0) return;
      const building = `${name}_building`;
      await client.query(`drop database if exists ${building} with (force)`);
      await client.query(`create database ${building}`);
      const url = new URL(adminUrl);
      url.pathname = `/${building}`;
      const dataDir = mkdtempSync(join(tmpdir(), 'lethe-test-'));
      try {
        const store = await openStore({ dataDir, databaseUrl: url.toString() });
        await store.close();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
      await client.query(`alter database ${building} rename to ${name}`);
    } finally {
      await client.query('select pg_advisory_unlock(hashtext($1))', [name]);
    }
  });
  return name;
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
