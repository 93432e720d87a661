import { Option, type Command } from 'commander';
import {
  configFlag,
  dataDirFlag,
  existingStoreOption,
  jsonFlag,
  printJson,
  storeFlags,
} from '../cli/args.js';
import { commandSettings } from '../config/process-environment.js';
import { migrationStatus, type MigrationStatus } from './migration-status.js';
import { openStore } from './open-store.js';

interface MigrateOptions {
  dryRun?: boolean;
  json?: boolean;
  dataDir?: string;
  config?: string;
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      "bring an existing store's schema up to this release (lethe serve does it at start too); " +
        'with --dry-run, list what would run and change nothing',
    )
    .addOption(new Option('--dry-run', 'only list the applied and pending migrations'))
    .addOption(dataDirFlag())
    .addOption(configFlag())
    .addOption(jsonFlag('print {store, applied, pending, unknown} as JSON'))
    .action((options: MigrateOptions) => migrateCommand(options));
}

/**
 * `lethe migrate [--dry-run]`, for upgrades (docs/deploy.md): the dry run reads the migration
 * table read-only; without it, the store is opened as `lethe serve` opens it, which runs the
 * pending migrations, and what ran is read back from the table rather than assumed.
 */
async function migrateCommand(options: MigrateOptions): Promise<void> {
  const location = existingStoreOption(commandSettings(storeFlags(options)), { masterKey: false });
  const before = await migrationStatus(location);
  if (!options.dryRun && before.unknown.length > 0) {
    // What `lethe serve` would refuse too (Kysely: "corrupted migrations"), said in our words.
    throw new Error(
      `the store has run migrations this release does not know (${before.unknown.join(', ')}): a newer ` +
        'release migrated it; run that release, or restore the backup taken before its upgrade',
    );
  }
  if (options.dryRun || before.pending.length === 0) {
    if (options.json) printJson(before);
    else printStatus(before, options.dryRun ? 'would run' : 'ran');
    return;
  }
  // Refused like `lethe serve` would refuse it (migrations unknown to this release).
  await (await openStore(location)).close();
  const after = await migrationStatus(location);
  const ran = before.pending.filter((name) => after.applied.includes(name));
  if (options.json) printJson({ ...after, ran });
  else printStatus({ ...after, pending: ran }, 'ran');
}

function printStatus(status: MigrationStatus, verb: string): void {
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write(`store: ${status.store}`);
  write(`applied: ${status.applied.length} (latest ${status.applied.at(-1) ?? 'none'})`);
  if (status.pending.length === 0) write(`${verb}: nothing, the schema is up to date`);
  else write(`${verb}: ${status.pending.join(', ')}`);
  if (status.unknown.length > 0)
    write(
      `unknown to this release: ${status.unknown.join(', ')} (a newer release ran them; ` +
        'this one will not start on this store)',
    );
}
