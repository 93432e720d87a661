import { parseArgs } from 'node:util';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { LetheApiError, LetheClient } from '@lethe/client';
import { clientSettings, UsageError, usageErrors } from './args.js';
import { displayPath, ManifestError, parseManifest, type ParsedManifest } from './manifest.js';

export const APPLY_USAGE = 'lethe apply -f FILE.yaml|DIR [-f …]';

/**
 * Applies manifests through the API, policies first, then systems. Every file is parsed and
 * checked before anything is sent, so a typo stops the run before it changes anything.
 */
export async function applyCommand(args: string[]): Promise<void> {
  const options = usageErrors(
    () =>
      parseArgs({
        args,
        options: { file: { type: 'string', short: 'f', multiple: true } },
        strict: true,
      }).values,
  );
  if (!options.file?.length) throw new UsageError('give at least one manifest with -f');
  const files = (await Promise.all(options.file.map(expandManifestPath))).flat();
  const parsed = await Promise.all(
    files.map(async (file) => ({ file, manifest: parseManifest(file, await readFile(file, 'utf8')) })),
  );
  const client = new LetheClient(clientSettings());
  for (const { file, manifest } of parsed) await applyManifest(client, file, manifest);
}

async function applyManifest(client: LetheClient, file: string, parsed: ParsedManifest): Promise<void> {
  const { policies = [], systems = [] } = parsed.manifest;
  const report = async (path: (string | number)[], what: string, put: () => Promise<unknown>) => {
    try {
      await put();
      process.stdout.write(`applied ${what}\n`);
    } catch (error) {
      if (!(error instanceof LetheApiError)) throw error;
      throw new ManifestError(
        file,
        parsed.lineOf(path),
        displayPath(path),
        `${error.code}: ${error.message}`,
      );
    }
  };
  for (const [index, { name, ...policy }] of policies.entries()) {
    await report(['policies', index], `policy ${name}`, () => client.putPolicy(name, policy));
  }
  for (const [index, { name, ...system }] of systems.entries()) {
    await report(['systems', index], `system ${name}`, () => client.putSystem(name, system));
  }
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
