import { loadSettings } from './load-settings.js';
import type { Settings } from './settings.js';

/**
 * The process environment: the only place Lethe's code reads `process.env` (a test in
 * `configuration.test.ts` holds every other file to that). Settings are read through
 * `loadSettings`; what else comes from here is named by the operator, not by Lethe: the
 * variables holding connectors' connection strings (`urlEnv` in a manifest).
 */
export function processEnvironment(): Readonly<Record<string, string | undefined>> {
  return process.env;
}

/** A command's settings: its flags (by variable name) over the environment over `--config`'s file. */
export function commandSettings(flags: Readonly<Record<string, string | undefined>> = {}): Settings {
  return loadSettings({ flags, env: processEnvironment() });
}
