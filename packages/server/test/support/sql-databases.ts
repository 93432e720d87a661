import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorType } from '@lethe/api';
import BetterSqlite3 from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import mysql from 'mysql2/promise';
import { openSqlDatabase } from '../../src/requests/sql-connectors/open-sql-database.js';
import type { UntypedDatabase } from '../../src/requests/sql-connectors/sql-dialect-adapter.js';
import { adminQuery, POSTGRES_ADMIN_URL } from './backends.js';

/**
 * Throwaway databases of the three kinds a SQL connector talks to, for tests: a fresh database on
 * the PostgreSQL and MariaDB/MySQL servers, a fresh file for SQLite. In CI (CI=true) every server
 * must answer; elsewhere a kind whose server does not is skipped, with a loud warning.
 */
export const MYSQL_ADMIN_URL = process.env['LETHE_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';

export interface TestSqlDatabase {
  readonly type: ConnectorType;
  /** The connection string a connector config's `urlEnv` would hold. */
  readonly url: string;
  /** Column types that differ between the kinds. */
  readonly types: { readonly text: string; readonly blob: string };
  /** A connection for setting up and checking (SQLite returns integers as bigint). */
  readonly db: Kysely<UntypedDatabase>;
  /** Runs statements one by one (DDL, inserts). */
  exec(...statements: string[]): Promise<void>;
  /** Closes `db` and drops the database (or removes the file). */
  dispose(): Promise<void>;
}

export interface SqlDatabaseKind {
  readonly type: ConnectorType;
  create(): Promise<TestSqlDatabase>;
}

const randomName = () => `lethe_conn_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;

async function wrap(
  type: ConnectorType,
  url: string,
  types: TestSqlDatabase['types'],
  drop: () => Promise<void>,
): Promise<TestSqlDatabase> {
  const { db, close } = await openSqlDatabase(type, url);
  return {
    type,
    url,
    types,
    db,
    async exec(...statements) {
      for (const statement of statements) await sql.raw(statement).execute(db);
    },
    async dispose() {
      await close();
      await drop();
    },
  };
}

const sqliteKind: SqlDatabaseKind = {
  type: 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'lethe-conn-'));
    const path = join(dir, 'connector.db');
    const file = new BetterSqlite3(path);
    file.pragma('journal_mode = WAL');
    file.close();
    return wrap('sqlite', `sqlite:${path}`, { text: 'text', blob: 'blob' }, async () =>
      rmSync(dir, { recursive: true, force: true }),
    );
  },
};

const postgresKind: SqlDatabaseKind = {
  type: 'postgres',
  async create() {
    const name = randomName();
    await adminQuery(`create database ${name}`);
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    return wrap('postgres', url.toString(), { text: 'text', blob: 'bytea' }, () =>
      adminQuery(`drop database if exists ${name} with (force)`),
    );
  },
};

const mysqlKind: SqlDatabaseKind = {
  type: 'mysql',
  async create() {
    const name = randomName();
    // The usual server default, stated: text compares case-insensitively.
    await mysqlAdmin(`create database ${name} character set utf8mb4 collate utf8mb4_general_ci`);
    const url = new URL(MYSQL_ADMIN_URL);
    url.pathname = `/${name}`;
    return wrap('mysql', url.toString(), { text: 'varchar(255)', blob: 'blob' }, () =>
      mysqlAdmin(`drop database if exists ${name}`),
    );
  },
};

async function mysqlAdmin(text: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: MYSQL_ADMIN_URL, connectTimeout: 2_000 });
  try {
    await connection.query(text);
  } finally {
    await connection.end();
  }
}

async function reachable(kind: string, url: string, probe: () => Promise<void>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (error) {
    const where = url.replace(/:[^:@/]*@/, ':***@');
    if (process.env['CI'] === 'true') {
      throw new Error(`${kind} is required in CI but not reachable at ${where}: ${String(error)}`);
    }
    console.warn(
      `\n[lethe tests] ${kind} not reachable at ${where} (${String(error)}): ` +
        `the ${kind} half of the SQL connector suites is SKIPPED. Start it or set its LETHE_TEST_*_URL.\n`,
    );
    return false;
  }
}

/** SQLite always; PostgreSQL and MariaDB/MySQL when they answer (always in CI). */
export async function availableSqlDatabaseKinds(): Promise<SqlDatabaseKind[]> {
  const [postgres, mysqlUp] = await Promise.all([
    reachable('PostgreSQL', POSTGRES_ADMIN_URL, () => adminQuery('select 1')),
    reachable('MariaDB/MySQL', MYSQL_ADMIN_URL, () => mysqlAdmin('select 1')),
  ]);
  return [sqliteKind, ...(postgres ? [postgresKind] : []), ...(mysqlUp ? [mysqlKind] : [])];
}

export const ALL_SQL_DATABASE_KINDS: readonly SqlDatabaseKind[] = [sqliteKind, postgresKind, mysqlKind];
