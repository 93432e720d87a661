import { writeFile, rename } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { LetheClient } from '@lethe/client';
import { stringify } from 'yaml';
import { clientSettings, usageErrors } from '../../cli/args.js';

export const EXPORT_USAGE = 'lethe export [-o FILE.yaml]';

/**
 * Writes the declared data map and the active policies as a manifest (YAML) that `lethe apply`
 * accepts back unchanged. Without `-o` it goes to stdout; a file is written atomically.
 */
export async function exportCommand(args: string[]): Promise<void> {
  const options = usageErrors(
    () => parseArgs({ args, options: { output: { type: 'string', short: 'o' } }, strict: true }).values,
  );
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
