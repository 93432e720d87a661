import type { StoreLocation } from '../store/open-store.js';

/** A mistake in how a command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** Runs a strict `parseArgs`; an unknown or malformed flag becomes a UsageError. */
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

/**
 * The store an operator command opens (`token create`, `audit verify`): `--data-dir`, else
 * LETHE_DATA_DIR, else ./lethe-data, or DATABASE_URL. It must exist already: only `lethe serve`
 * creates a store, so a mistyped location is an error, not a new empty store.
 */
export function existingStoreOption(dataDir: string | undefined): StoreLocation {
  return { dataDir: dataDirOption(dataDir), databaseUrl: process.env['DATABASE_URL'], mustExist: true };
}
