import { join } from 'node:path';
import type { Command } from 'commander';
import { findMasterKey, MASTER_KEY_FILE_NAME } from '../auth/key-material.js';
import { configFlag, dataDirFlag, existingStoreOption, storeFlags, UsageError } from '../cli/args.js';
import { commandSettings } from '../config/process-environment.js';
import { SQLITE_FILE_NAME } from './open-store.js';
import { backupSqliteStore, BackupTargetExists } from './sqlite/sqlite-backup.js';

interface BackupOptions {
  dataDir?: string;
  config?: string;
}

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description(
      'copy a SQLite store (lethe.db and its usage journal) into a new directory while the server runs; ' +
        'not the master key, and not PostgreSQL (use pg_dump)',
    )
    .argument('<dir>', 'a new or empty directory for the copies')
    .addOption(dataDirFlag())
    .addOption(configFlag())
    .action((dir: string, options: BackupOptions) => backupCommand(dir, options));
}

/**
 * `lethe backup DIR`: SQLite's online backup of the store's two files (see `backupSqliteStore`),
 * then a reminder of what the backup cannot hold: the master key that unwraps its key material.
 */
async function backupCommand(dir: string, options: BackupOptions): Promise<void> {
  const settings = commandSettings(storeFlags(options));
  if (settings.get('DATABASE_URL')) {
    throw new UsageError(
      'DATABASE_URL is set: a PostgreSQL store is backed up with pg_dump (see docs/deploy.md), not lethe backup',
    );
  }
  const { dataDir } = existingStoreOption(settings, { masterKey: false });
  let copied;
  try {
    copied = await backupSqliteStore(join(dataDir, SQLITE_FILE_NAME), dir);
  } catch (error) {
    if (error instanceof BackupTargetExists) throw new UsageError(error.message);
    throw error;
  }
  for (const file of copied) process.stdout.write(`${file.target}\t${file.bytes} bytes\n`);
  const key = await findMasterKey(settings.explicit, dataDir).catch(() => undefined);
  const keySource = key && 'key' in key ? key.key.source : join(dataDir, MASTER_KEY_FILE_NAME);
  process.stderr.write(
    `backed up ${dataDir} into ${dir}. The master key is not in it: keep a copy of ${keySource} ` +
      'apart from the backup; without it the backup cannot be opened.\n',
  );
}
