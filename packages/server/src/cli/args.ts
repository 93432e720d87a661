import { InvalidArgumentError, Option } from 'commander';
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
  const token = process.env['LETHE_TOKEN'];
  if (!token)
    throw new UsageError(
      'Set LETHE_TOKEN to a token from `lethe token create` (and LETHE_URL if not local).',
    );
  return { url: process.env['LETHE_URL'] ?? 'http://127.0.0.1:7420', token };
}

export function dataDirOption(value: string | undefined): string {
  return value ?? process.env['LETHE_DATA_DIR'] ?? './lethe-data';
}

/** `--data-dir D`, declared alike on every command that opens the store itself. */
export function dataDirFlag(): Option {
  return new Option('--data-dir <dir>', 'the data directory (default: LETHE_DATA_DIR, else ./lethe-data)');
}

/**
 * The store an operator command opens (`token create`, `audit verify`): `--data-dir`, else
 * LETHE_DATA_DIR, else ./lethe-data, or DATABASE_URL. It must exist already: only `lethe serve`
 * creates a store, so a mistyped location is an error, not a new empty store.
 */
export function existingStoreOption(dataDir: string | undefined): StoreLocation {
  return { dataDir: dataDirOption(dataDir), databaseUrl: process.env['DATABASE_URL'], mustExist: true };
}

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
