import { writeFile, rename } from 'node:fs/promises';
import type { Command } from 'commander';
import { LetheClient } from '@lethe/client';
import { stringify } from 'yaml';
import { clientSettings } from '../../cli/args.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write the data map and active policies as a manifest that `lethe apply` takes back')
    .option('-o, --output <file>', 'write to this file (atomically) instead of stdout')
    .action((options: { output?: string }) => exportCommand(options));
}

/**
 * Writes the declared data map and the active policies as a manifest (YAML) that `lethe apply`
 * accepts back unchanged. Without `-o` it goes to stdout; a file is written atomically.
 */
async function exportCommand(options: { output?: string }): Promise<void> {
  const manifest = await new LetheClient(clientSettings()).exportManifest();
  // No timestamp: exporting an unchanged map twice gives the same bytes (diffable, committable).
  const text = `# Lethe manifest (lethe export); apply with lethe apply -f\n${stringify(manifest, { lineWidth: 0 })}`;
  if (options.output === undefined) {
    process.stdout.write(text);
    return;
  }
  const temporary = `${options.output}.${process.pid}.tmp`;
  await writeFile(temporary, text, 'utf8');
  await rename(temporary, options.output);
}
