import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../src/store/migration-provider.js';
import type { BackendCapabilities } from '../src/store/store.js';
import { availableBackends } from './support/backends.js';
import { runLethe } from './support/lethe-process.js';

/**
 * `lethe migrate --dry-run` lists the migrations an upgrade would run and changes nothing;
 * `lethe migrate` runs them. The store under test is one an older release left: migrated up to
 * the second-to-last migration this release knows.
 */
const CAPABILITIES: Record<'sqlite' | 'postgres', BackendCapabilities> = {
  sqlite: { description: 'sqlite (test)', withoutRowId: true, shared: false },
  postgres: { description: 'postgres (test)', withoutRowId: false, shared: true },
};
const NAMES = Object.keys(await migrationProvider(CAPABILITIES.sqlite).getMigrations()).sort();
const LATEST = NAMES.at(-1)!;
const PREVIOUS = NAMES.at(-2)!;

const disposers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const dispose of disposers) await dispose();
});

/** A Kysely on the location, as an older release's `lethe serve` would have opened it. */
function connect(location: { dataDir: string; databaseUrl?: string }): Kysely<unknown> {
  return location.databaseUrl
    ? new Kysely({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: location.databaseUrl }) }),
      })
    : new Kysely({
        dialect: new SqliteDialect({ database: new BetterSqlite3(join(location.dataDir, 'lethe.db')) }),
      });
}

async function appliedNames(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return rows.map((row) => row.name);
}

describe.each(await availableBackends())('lethe migrate on $name', { timeout: 120_000 }, (backend) => {
  it(`lists ${LATEST} as pending with --dry-run and changes nothing; without it, runs it`, async () => {
    const location = await backend.create();
    disposers.push(location.dispose);
    const env = { DATABASE_URL: location.databaseUrl };
    const db = connect(location);
    try {
      const migrator = new Migrator({ db, provider: migrationProvider(CAPABILITIES[backend.name]) });
      const older = await migrator.migrateTo(PREVIOUS);
      expect(older.error).toBeUndefined();
      expect(await appliedNames(db)).toEqual(NAMES.slice(0, -1));
      const fileBefore = backend.name === 'sqlite' ? sha256(join(location.dataDir, 'lethe.db')) : undefined;

      const dryRun = await runLethe(['migrate', '--dry-run', '--data-dir', location.dataDir], env);
      expect(dryRun.code, dryRun.stderr).toBe(0);
      expect(dryRun.stdout).toContain(`applied: ${NAMES.length - 1} (latest ${PREVIOUS})`);
      expect(dryRun.stdout).toContain(`would run: ${LATEST}`);

      const json = await runLethe(['migrate', '--dry-run', '--json', '--data-dir', location.dataDir], env);
      expect(JSON.parse(json.stdout)).toMatchObject({
        applied: NAMES.slice(0, -1),
        pending: [LATEST],
        unknown: [],
      });
      // Nothing changed: the migration table, and for SQLite the file itself.
      expect(await appliedNames(db)).toEqual(NAMES.slice(0, -1));
      if (fileBefore) expect(sha256(join(location.dataDir, 'lethe.db'))).toBe(fileBefore);

      const migrate = await runLethe(['migrate', '--data-dir', location.dataDir], env);
      expect(migrate.code, migrate.stderr).toBe(0);
      expect(migrate.stdout).toContain(`ran: ${LATEST}`);
      expect(await appliedNames(db)).toEqual(NAMES);

      const after = await runLethe(['migrate', '--dry-run', '--data-dir', location.dataDir], env);
      expect(after.stdout).toContain('would run: nothing, the schema is up to date');
    } finally {
      await db.destroy();
    }
  });

  it('names the migrations of a newer release with --dry-run, and refuses to migrate such a store', async () => {
    const location = await backend.create();
    disposers.push(location.dispose);
    const env = { DATABASE_URL: location.databaseUrl };
    const db = connect(location);
    try {
      const migrator = new Migrator({ db, provider: migrationProvider(CAPABILITIES[backend.name]) });
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      await sql`insert into kysely_migration (name, timestamp) values ('9999-from-a-newer-release', '2099-01-01T00:00:00.000Z')`.execute(
        db,
      );
      const dryRun = await runLethe(['migrate', '--dry-run', '--json', '--data-dir', location.dataDir], env);
      expect(dryRun.code, dryRun.stderr).toBe(0);
      expect(JSON.parse(dryRun.stdout)).toMatchObject({
        pending: [],
        unknown: ['9999-from-a-newer-release'],
      });
      expect(JSON.parse(dryRun.stdout).applied).toEqual(NAMES);
      const migrate = await runLethe(['migrate', '--data-dir', location.dataDir], env);
      expect(migrate.code).toBe(1);
      expect(migrate.stderr).toContain('migrations this release does not know (9999-from-a-newer-release)');
    } finally {
      await db.destroy();
    }
  });
});

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
