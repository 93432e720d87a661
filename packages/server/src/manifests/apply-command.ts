import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { BODY_LIMIT_BYTES, REASON_MAX_LENGTH, type ManifestChange } from '@lethe/api';
import { LetheApiError, LetheClient } from '@lethe/client';
import { clientSettings, collect, UsageError } from '../cli/args.js';
import { checkSecretsFile, secretsFileFlag, writeSecrets } from '../cli/secrets-file.js';
import { readLimitedText } from '../lib/read-limited-text.js';
import { displayPath, ManifestError, mergeManifests, parseManifest } from './manifest-file.js';

interface ApplyOptions {
  file?: string[];
  dryRun?: boolean;
  prune?: boolean;
  reason?: string;
  secretsFile?: string;
  showSecrets?: boolean;
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('apply manifests as one unit: all of it or nothing')
    .option('-f, --file <path>', 'a manifest (.yaml/.yml) or a directory of them; repeatable', collect)
    .option('--dry-run', 'show what would change, change nothing')
    .option('--prune', 'remove what the manifests no longer declare (legal holds are kept)')
    .option(
      '--reason <text>',
      'why: recorded on every policy version the run creates (default "applied from manifest FILE")',
    )
    .addOption(secretsFileFlag())
    .option('--show-secrets', "print created webhooks' signing secrets (kept off stdout otherwise: CI logs)")
    .action((options: ApplyOptions) => applyCommand(options));
}

const SIGNS: Record<ManifestChange['action'], string> = {
  created: '+',
  changed: '~',
  unchanged: '=',
  removed: '-',
  kept: '!',
};

/**
 * Applies manifests as one unit through `POST /v1/manifest`. Every file is parsed and checked
 * before anything is sent, so a typo stops the run before it changes anything; an entry the
 * server refuses is named by file, path and line, and nothing of the run is kept.
 */
async function applyCommand(options: ApplyOptions): Promise<void> {
  if (!options.file?.length) throw new UsageError('give at least one manifest with -f');
  const files = (await Promise.all(options.file.map(expandManifestPath))).flat();
  if (files.length === 0) throw new UsageError('no .yaml or .yml files found');
  const parsed = await Promise.all(
    files.map(async (file) => ({ file, parsed: parseManifest(file, await readManifestFile(file)) })),
  );
  const { manifest, originOf } = mergeManifests(parsed);
  if (options.secretsFile) await checkSecretsFile(options.secretsFile);
  const dryRun = options.dryRun ?? false;
  const client = new LetheClient(clientSettings());
  let result;
  try {
    // Without --reason, the policy history still says where a change came from: the files.
    const reason = options.reason ?? `applied from manifest ${files.join(', ')}`.slice(0, REASON_MAX_LENGTH);
    result = await client.applyManifest(manifest, { dryRun, prune: options.prune ?? false, reason });
  } catch (error) {
    const path = pathOf(error);
    const origin = path === undefined ? undefined : originOf(path);
    if (!(error instanceof LetheApiError) || path === undefined || !origin) throw error;
    // The server prefixes its message with the merged path; the file's own path replaces it.
    const message = error.message.startsWith(`${path}: `)
      ? error.message.slice(path.length + 2)
      : error.message;
    throw new ManifestError(
      origin.file,
      origin.parsed.lineOf(origin.path),
      displayPath(origin.path),
      `${error.code}: ${message}`,
    );
  }
  await keepSecrets(result.changes, options.secretsFile);
  for (const change of result.changes) {
    const origin = change.path === undefined ? undefined : originOf(change.path);
    const where = origin ? `  (${origin.file}:${origin.parsed.lineOf(origin.path) ?? '?'})` : '';
    // A kept hold's note is its whole message: `! holds case-42 kept (release with …)`.
    const [first, ...rest] =
      change.action === 'kept' ? (change.notes ?? []) : [change.action, ...(change.notes ?? [])];
    process.stdout.write(
      `${SIGNS[change.action]} ${change.section} ${change.name} ${first ?? change.action}${where}\n`,
    );
    for (const note of rest) process.stdout.write(`    note: ${note}\n`);
    if (change.secret !== undefined) process.stdout.write(`    secret: ${secretLine(change, options)}\n`);
  }
  const { created, changed, unchanged, removed, kept } = result.summary;
  // Kept holds are named only when there are some: they are what prune refused to remove.
  process.stdout.write(
    `${dryRun ? 'dry run, nothing applied: ' : ''}${created} created, ${changed} changed, ${unchanged} unchanged, ${removed} removed${kept > 0 ? `, ${kept} kept` : ''}\n`,
  );
}

/**
 * The signing secrets of the webhooks the run created, which no later call shows again: written
 * to --secrets-file before anything is printed. A run that created some and cannot write them
 * says how to get new ones (the subscriptions exist; their secrets are lost).
 */
async function keepSecrets(changes: readonly ManifestChange[], file: string | undefined): Promise<void> {
  const secrets = Object.fromEntries(
    changes.flatMap((change) => (change.secret !== undefined ? [[change.name, change.secret]] : [])),
  );
  if (!file || Object.keys(secrets).length === 0) return;
  try {
    await writeSecrets(file, secrets);
  } catch (error) {
    const names = Object.keys(secrets).join(', ');
    throw new Error(
      `the manifests were applied, but the secrets of ${names} could not be written to ${file} ` +
        `(${error instanceof Error ? error.message : String(error)}); ` +
        'get new ones with lethe webhooks rotate-secret NAME',
    );
  }
}

/** Where a created webhook's secret is: on stdout only when asked (a CI log keeps stdout). */
function secretLine(change: ManifestChange, options: ApplyOptions): string {
  if (options.showSecrets) return change.secret ?? '';
  if (options.secretsFile) return `written to ${options.secretsFile}`;
  return (
    'not shown (pass --secrets-file PATH or --show-secrets; ' +
    `a new one: lethe webhooks rotate-secret ${change.name})`
  );
}

function pathOf(error: unknown): string | undefined {
  if (!(error instanceof LetheApiError)) return undefined;
  const details = error.details as { path?: unknown } | undefined;
  return typeof details?.path === 'string' ? details.path : undefined;
}

/**
 * A file larger than the server's body limit could never be applied: it is refused after reading
 * at most the limit, not parsed whole first (a 41 MB manifest took 2.5 GB to parse).
 */
async function readManifestFile(file: string): Promise<string> {
  const text = await readLimitedText(createReadStream(file), BODY_LIMIT_BYTES);
  if (text === undefined) {
    const limit = `${BODY_LIMIT_BYTES / (1024 * 1024)} MiB`;
    throw new ManifestError(
      file,
      undefined,
      '',
      `the file is larger than ${limit}, the largest request the server takes; nothing was sent`,
    );
  }
  return text;
}

/** A directory stands for the `.yaml`/`.yml` files in it, in name order. */
async function expandManifestPath(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => {
    throw new UsageError(`no such file or directory: ${path}`);
  });
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).filter((name) => ['.yaml', '.yml'].includes(extname(name))).sort();
  return names.map((name) => join(path, name));
}
