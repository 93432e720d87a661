import { InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { commandSettings } from '../config/process-environment.js';
import type { Settings } from '../config/settings.js';
import type { StoreLocation } from '../store/open-store.js';

/** A mistake in how a command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** Runs a check that throws (an environment setting, say); its message becomes a UsageError. */
export function usageErrors<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Server address and token for the client-side commands (API.md). */
export function clientSettings(): { url: string; token: string } {
  const settings = commandSettings();
  const token = settings.get('LETHE_TOKEN');
  if (!token)
    throw new UsageError(
      'Set LETHE_TOKEN to a token from `lethe token create` (and LETHE_URL if not local).',
    );
  return { url: settings.get('LETHE_URL') ?? DEFAULT_URL, token };
}

const DEFAULT_URL = 'http://127.0.0.1:7420';

/** `--data-dir D`, declared alike on every command that opens the store itself. */
export function dataDirFlag(): Option {
  return new Option('--data-dir <dir>', 'the data directory (default: LETHE_DATA_DIR, else ./lethe-data)');
}

/** `--config FILE`, on every command that reads server settings (docs/configuration.md). */
export function configFlag(): Option {
  return new Option('--config <file>', 'a lethe.yaml to read settings from (default: LETHE_CONFIG)');
}

/** What `--data-dir` and `--config` mean to `commandSettings`: the flags by their variable's name. */
export function storeFlags(options: {
  dataDir?: string;
  config?: string;
}): Record<string, string | undefined> {
  return { LETHE_DATA_DIR: options.dataDir, LETHE_CONFIG: options.config };
}

/** The data directory these settings name, absolute: how every command and log line states it. */
export function dataDirOf(settings: Settings): string {
  return resolve(settings.get('LETHE_DATA_DIR') ?? './lethe-data');
}

/**
 * The store an operator command opens (`token create`, `audit verify`): `--data-dir`, else
 * LETHE_DATA_DIR, else `data_dir` in the configuration file, else ./lethe-data; DATABASE_URL
 * alike. Both must exist already: only `lethe serve` creates a data directory or a store, so a
 * command run from another directory fails instead of making a new master key and minting a token
 * nobody's server accepts. With PostgreSQL, the data directory matters only for the master key
 * file: a command that needs no master key, or finds it in the environment, may lack it.
 */
export function existingStoreOption(settings: Settings, use: { readonly masterKey: boolean }): StoreLocation {
  const dataDir = dataDirOf(settings);
  const databaseUrl = settings.get('DATABASE_URL');
  const keyElsewhere = settings.get('LETHE_MASTER_KEY') ?? settings.get('LETHE_MASTER_KEY_FILE');
  const needsDataDir = !databaseUrl || (use.masterKey && !keyElsewhere);
  if (needsDataDir && !existsSync(dataDir))
    throw new DataDirNotFoundError(
      `no Lethe data directory at ${dataDir}; pass --data-dir or set LETHE_DATA_DIR (the server logs its own)`,
    );
  return { dataDir, databaseUrl, mustExist: true };
}

/** A command that only reads a data directory was pointed at one that does not exist: exit 1. */
export class DataDirNotFoundError extends Error {}

/** An option with a closed set of values: commander refuses others, naming the allowed ones. */
export function choiceOption(flags: string, description: string, choices: readonly string[]): Option {
  return new Option(flags, description).choices(choices);
}

/** Argument parser for a repeatable option (`-f a -f b`): the values in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Argument parser for a calendar day, checked here so that the error names the form. */
export function day(value: string): string {
  if (!DAY.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    throw new InvalidArgumentError('expected a day as YYYY-MM-DD.');
  return value;
}

/** `--json`: the API's JSON as it came, for scripts, instead of the table for people. */
export function jsonFlag(description = "print the API's JSON instead of a table"): Option {
  return new Option('--json', description);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
