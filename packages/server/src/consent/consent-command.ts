import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { LetheClient } from '@lethe/client';
import { clientSettings } from '../cli/args.js';

export function registerConsent(program: Command): void {
  program
    .command('consent')
    .description('consent records')
    .command('import')
    .description('record consent in bulk from a file (docs/consent.md); exit 1 when lines were rejected')
    .argument('<file>', 'FILE.csv is sent as CSV, anything else as NDJSON')
    .action((file: string) => consentImport(file));
}

/** Bulk consent from a file (docs/consent.md): `.csv` is sent as CSV, anything else as NDJSON. */
async function consentImport(file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const client = new LetheClient(clientSettings());
  const result = await client.importConsent(text, file.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson');
  const lines = [
    ...result.rejected.map(
      (row) =>
        `line ${row.line}: rejected ${row.code}${row.column ? ` (${row.column})` : ''}: ${row.message}`,
    ),
    `recorded ${result.recorded} consent events for ${result.subjects} subjects; ${result.recomputed} expiries moved`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (result.rejected.length > 0) process.exitCode = 1;
}
