import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export interface Machine {
  readonly lines: string[];
  /** Sequential write bandwidth of the benchmark's disk, bytes/s, with an fsync at the end. */
  readonly diskBytesPerSecond: number;
}

const COMMIT_PROBE_COUNT = 200;
const BANDWIDTH_PROBE_BYTES = 256 * 2 ** 20;

/**
 * What the figures depend on: cores, memory, runtimes, and the disk the data goes to — what a
 * durable commit costs and how many bytes per second it takes, since every batch pays both.
 */
export function describeMachine(extra: readonly string[] = []): Machine {
  const processors = cpus();
  const sqlite = new BetterSqlite3(':memory:');
  const sqliteVersion = (sqlite.prepare('select sqlite_version() as v').get() as { v: string }).v;
  sqlite.close();
  const directory = mkdtempSync(join(tmpdir(), 'lethe-disk-probe-'));
  try {
    const commit = commitMs(directory);
    const bandwidth = writeBandwidth(directory);
    return {
      diskBytesPerSecond: bandwidth,
      lines: [
        `Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        `CPU: ${processors.length} × ${processors[0]?.model.trim() ?? 'unknown'}`,
        `Memory: ${Math.round(totalmem() / 2 ** 30)} GiB; OS: Linux ${release()}`,
        `Node ${process.version}; SQLite ${sqliteVersion} (better-sqlite3)`,
        ...extra,
        `Disk of ${tmpdir()}: a one-row durable SQLite commit (WAL, synchronous=FULL) takes ${commit.toFixed(2)} ms; ` +
          `sequential writes reach ${Math.round(bandwidth / 1e6)} MB/s (256 MiB, then fsync)`,
      ],
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function commitMs(directory: string): number {
  const connection = new BetterSqlite3(join(directory, 'probe.db'));
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = FULL');
  connection.exec('create table probe (value integer)');
  const insert = connection.prepare('insert into probe values (?)');
  const started = performance.now();
  for (let i = 0; i < COMMIT_PROBE_COUNT; i += 1) insert.run(i);
  const elapsed = performance.now() - started;
  connection.close();
  return elapsed / COMMIT_PROBE_COUNT;
}

function writeBandwidth(directory: string): number {
  const chunk = Buffer.alloc(2 ** 20, 1);
  const file = openSync(join(directory, 'bandwidth'), 'w');
  const started = performance.now();
  for (let written = 0; written < BANDWIDTH_PROBE_BYTES; written += chunk.length) writeSync(file, chunk);
  fsyncSync(file);
  const seconds = (performance.now() - started) / 1000;
  closeSync(file);
  return BANDWIDTH_PROBE_BYTES / seconds;
}
