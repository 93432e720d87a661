import { Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from './args.js';

/** `--secrets-file PATH`, alike on every command that may receive a webhook signing secret. */
export function secretsFileFlag(): Option {
  return new Option(
    '--secrets-file <path>',
    'write signing secrets to this JSON file (name → secret, readable by its owner only) instead of stdout',
  );
}

/**
 * Refuses, before anything is created, a secrets file that could not be written: its directory
 * missing, or a file there that is not a JSON object. A secret that cannot be written is lost.
 */
export async function checkSecretsFile(path: string): Promise<void> {
  const info = await stat(dirname(path)).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`--secrets-file: no such directory: ${dirname(path)}`);
  await readSecrets(path);
}

/**
 * Adds `secrets` (subscription name → signing secret) to the JSON object in `path`, a file only
 * its owner may read (mode 0600), so a secret never passes through stdout and a CI log. Written
 * beside it and renamed over it: the file is either as before or whole, never half written.
 */
export async function writeSecrets(path: string, secrets: Readonly<Record<string, string>>): Promise<void> {
  const existing = await readSecrets(path);
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ ...existing, ...secrets }, null, 2)}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  await rename(temporary, path);
}

async function readSecrets(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new UsageError(`--secrets-file: ${path} holds something other than a JSON object of secrets`);
  return parsed as Record<string, string>;
}
