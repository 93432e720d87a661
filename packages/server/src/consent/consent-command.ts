import { readFile } from 'node:fs/promises';
import { LetheClient } from '@lethe/client';
import { clientSettings, UsageError } from '../cli/args.js';

export const CONSENT_USAGE = 'lethe consent import FILE.ndjson|FILE.csv';

/** Bulk consent from a file (docs/consent.md): `.csv` is sent as CSV, anything else as NDJSON. */
export async function consentCommand(args: string[]): Promise<void> {
  const [action, file, ...extra] = args;
  if (action !== 'import') throw new UsageError(`unknown consent action "${action ?? ''}"`);
  if (file === undefined) throw new UsageError('the file to import is missing');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
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
