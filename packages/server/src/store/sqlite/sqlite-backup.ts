import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { StoreNotFoundError } from '../store-not-found.js';
import { SQLITE_BUSY_TIMEOUT_MS } from './sqlite-connection.js';
import { journalFileOf } from './sqlite-journal-file.js';

export interface BackedUpFile {
  readonly source: string;
  readonly target: string;
  readonly bytes: number;
}

/**
 * An online backup of a SQLite store: the main file and the usage journal's file, copied with
 * SQLite's backup API (better-sqlite3's `backup()`) while the server keeps running, into
 * `targetDir` under the same names, so that the directory is a data directory (without its
 * master key). Each copy is written under a temporary name, checked with `quick_check` and then
 * renamed: a file of the final name is a complete backup. Existing backups are never overwritten.
 *
 * The journal is copied first: its rows past the main file's folded position are the events
 * accepted but not folded yet. Copied in this order, every row the main copy counts as folded is
 * folded in it, and the journal copy holds every row after that position that existed when it was
 * taken (later appends are simply not in the backup). The other order could lose rows folded and
 * deleted between the two copies.
 */
export async function backupSqliteStore(mainFile: string, targetDir: string): Promise<BackedUpFile[]> {
  if (!existsSync(mainFile)) {
    throw new StoreNotFoundError(`${dirname(mainFile)} (it has no ${basename(mainFile)})`);
  }
  const journalFile = journalFileOf(mainFile);
  const sources = [...(existsSync(journalFile) ? [journalFile] : []), mainFile];
  const targets = sources.map((source) => join(targetDir, basename(source)));
  const existing = targets.find((target) => existsSync(target));
  if (existing !== undefined) throw new BackupTargetExists(existing);
  mkdirSync(targetDir, { recursive: true, mode: 0o700 });

  const copied: BackedUpFile[] = [];
  for (const [index, source] of sources.entries()) {
    const target = targets[index]!;
    await copyDatabase(source, target);
    copied.push({ source, target, bytes: statSync(target).size });
  }
  return copied;
}

async function copyDatabase(source: string, target: string): Promise<void> {
  const temporary = `${target}.partial`;
  rmSync(temporary, { force: true });
  const database = new BetterSqlite3(source, {
    readonly: true,
    fileMustExist: true,
    timeout: SQLITE_BUSY_TIMEOUT_MS,
  });
  try {
    // After the first step, everything left in one step: a write by the server between two
    // steps would make SQLite restart the copy, so a copy in small steps might never finish
    // under steady ingest. One step holds a read snapshot (WAL: writers go on meanwhile).
    await database.backup(temporary, { progress: ({ remainingPages }) => remainingPages });
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  } finally {
    database.close();
  }
  // Read-write, so that closing it removes the -wal and -shm files a WAL database opens with.
  const copy = new BetterSqlite3(temporary, { fileMustExist: true });
  try {
    const result = copy.pragma('quick_check', { simple: true });
    if (result !== 'ok')
      throw new Error(`the copy of ${source} fails SQLite's quick_check: ${String(result)}`);
  } finally {
    copy.close();
  }
  // Subject data and wrapped keys: readable by the owner only, like the data directory.
  chmodSync(temporary, 0o600);
  renameSync(temporary, target);
}

/** The backup would overwrite a file: backups are written to a new place each time. */
export class BackupTargetExists extends Error {
  constructor(readonly file: string) {
    super(`${file} exists already; back up into a new directory (a backup is never overwritten)`);
  }
}
