import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { cpuSecondsOf, writtenBytesOf, type ProcessUsage } from './server-process.js';

/** The server the benchmark may use; override with BENCH_POSTGRES_URL (any database on it). */
export const POSTGRES_ADMIN_URL =
  process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Override with BENCH_DATABASE when several benchmarks share the server (each drops its own). */
const BENCH_DATABASE = process.env['BENCH_DATABASE'] ?? 'lethe_bench';

/** Drops and creates the benchmark's own database, so that every run starts empty; returns its URL. */
export async function recreateBenchDatabase(): Promise<string> {
  await withClient(POSTGRES_ADMIN_URL, async (client) => {
    await client.query(`drop database if exists ${BENCH_DATABASE} with (force)`);
    await client.query(`create database ${BENCH_DATABASE}`);
  });
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${BENCH_DATABASE}`;
  return url.toString();
}

export async function dropBenchDatabase(): Promise<void> {
  await withClient(POSTGRES_ADMIN_URL, (client) =>
    client.query(`drop database if exists ${BENCH_DATABASE} with (force)`),
  );
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Version and the durability settings that decide what a commit costs. */
export async function describePostgres(): Promise<string> {
  return withClient(POSTGRES_ADMIN_URL, async (client) => {
    const setting = async (name: string) =>
      (await client.query<{ value: string }>(`select current_setting('${name}') as value`)).rows[0]?.value ??
      '?';
    return `PostgreSQL ${await setting('server_version')} (synchronous_commit=${await setting('synchronous_commit')}, fsync=${await setting('fsync')}, shared_buffers=${await setting('shared_buffers')})`;
  });
}

/**
 * CPU seconds and bytes written so far by every local `postgres` process, by pid. PostgreSQL
 * does its work in its own processes, so the Lethe process's figures alone would hide half the
 * cost of a run.
 */
export function postgresUsageByPid(): Map<number, ProcessUsage> {
  const usage = new Map<number, ProcessUsage>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      usage.set(pid, { cpuSeconds: cpuSecondsOf(pid), writtenBytes: writtenBytesOf(pid) });
    } catch {
      // The process ended while we looked.
    }
  }
  return usage;
}

/** What postgres processes used between two snapshots (processes that ended in between are missed). */
export function postgresUsageSince(before: Map<number, ProcessUsage>): ProcessUsage {
  let cpuSeconds = 0;
  let writtenBytes = 0;
  for (const [pid, now] of postgresUsageByPid()) {
    cpuSeconds += now.cpuSeconds - (before.get(pid)?.cpuSeconds ?? 0);
    writtenBytes += now.writtenBytes - (before.get(pid)?.writtenBytes ?? 0);
  }
  return { cpuSeconds, writtenBytes };
}

/** Server-wide WAL counters (pg_stat_wal, PostgreSQL 14+): what the commits cost the log. */
export interface WalCounters {
  readonly records: number;
  readonly fullPageImages: number;
  readonly bytes: number;
}

export async function walCounters(): Promise<WalCounters> {
  return withClient(POSTGRES_ADMIN_URL, async (client) => {
    const { rows } = await client.query<{ records: string; fpi: string; bytes: string }>(
      'select wal_records as records, wal_fpi as fpi, wal_bytes as bytes from pg_stat_wal',
    );
    const row = rows[0];
    return { records: Number(row?.records), fullPageImages: Number(row?.fpi), bytes: Number(row?.bytes) };
  });
}

export function walSince(before: WalCounters, after: WalCounters): WalCounters {
  return {
    records: after.records - before.records,
    fullPageImages: after.fullPageImages - before.fullPageImages,
    bytes: after.bytes - before.bytes,
  };
}
