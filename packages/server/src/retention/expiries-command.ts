import { parseArgs } from 'node:util';
import type { ExpiryItem, ExpiryQuery } from '@lethe/api';
import { LetheClient } from '@lethe/client';
import { clientSettings, UsageError, usageErrors } from '../cli/args.js';

export const EXPIRIES_USAGE =
  'lethe expiries --day YYYY-MM-DD | --from D --to D [--system S] [--dataset D] [--field F] [--level field|subject] [--format table|ndjson]';

/** Streams the expiry feed to stdout: a table for people, NDJSON for scripts. */
export async function expiriesCommand(args: string[]): Promise<void> {
  const options = usageErrors(
    () =>
      parseArgs({
        args: args,
        options: {
          day: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
          system: { type: 'string' },
          dataset: { type: 'string' },
          field: { type: 'string' },
          level: { type: 'string' },
          format: { type: 'string' },
        },
        strict: true,
      }).values,
  );
  if (!options.day && !options.from) throw new UsageError('give --day, or --from (and --to)');
  if (options.level !== undefined && options.level !== 'field' && options.level !== 'subject') {
    throw new UsageError('--level must be field or subject');
  }
  const format = options.format ?? 'table';
  if (format !== 'table' && format !== 'ndjson') throw new UsageError('--format must be table or ndjson');
  const query: ExpiryQuery = {
    ...(options.day !== undefined ? { day: options.day } : {}),
    ...(options.from !== undefined ? { from: options.from } : {}),
    ...(options.to !== undefined ? { to: options.to } : {}),
    ...(options.system !== undefined ? { system: options.system } : {}),
    ...(options.dataset !== undefined ? { dataset: options.dataset } : {}),
    ...(options.field !== undefined ? { field: options.field } : {}),
    ...(options.level !== undefined ? { level: options.level } : {}),
  };
  const client = new LetheClient(clientSettings());
  let count = 0;
  if (format === 'table') process.stdout.write('expiresAt\tsubject\tfield\tpolicy\tsystem\tstatus\n');
  for await (const item of client.streamExpiries(query)) {
    count += 1;
    process.stdout.write(
      format === 'ndjson'
        ? `${JSON.stringify(item)}\n`
        : `${item.expiresAt}\t${item.subject}\t${item.field}\t${item.policy}\t${item.system}\t${statusOf(item)}\n`,
    );
  }
  process.stderr.write(`${count} expir${count === 1 ? 'y' : 'ies'}\n`);
}

/** `due`, `upcoming`, or `held:<hold>` naming the legal hold that stops the deletion. */
function statusOf(item: ExpiryItem): string {
  return item.hold === undefined ? item.status : `${item.status}:${item.hold}`;
}
