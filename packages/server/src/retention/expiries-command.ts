import type { Command } from 'commander';
import type { ExpiryItem, ExpiryQuery } from '@lethe/api';
import { LetheClient } from '@lethe/client';
import { choiceOption, clientSettings, day, UsageError } from '../cli/args.js';

interface ExpiriesOptions {
  day?: string;
  from?: string;
  to?: string;
  system?: string;
  dataset?: string;
  field?: string;
  level?: 'field' | 'subject';
  format: 'table' | 'ndjson';
}

export function registerExpiries(program: Command): void {
  program
    .command('expiries')
    .description('the expiry feed of one day or a range: a table for people, NDJSON for scripts')
    .option('--day <YYYY-MM-DD>', 'expiries of this day', day)
    .option('--from <YYYY-MM-DD>', 'first day of a range', day)
    .option('--to <YYYY-MM-DD>', 'last day of a range', day)
    .option('--system <system>', 'only this system')
    .option('--dataset <dataset>', 'only this dataset')
    .option('--field <field>', 'only this field')
    .addOption(choiceOption('--level <level>', 'one line per field or per subject', ['field', 'subject']))
    .addOption(choiceOption('--format <format>', 'output format', ['table', 'ndjson']).default('table'))
    .action((options: ExpiriesOptions) => expiriesCommand(options));
}

/** Streams the expiry feed to stdout: a table for people, NDJSON for scripts. */
async function expiriesCommand(options: ExpiriesOptions): Promise<void> {
  if (!options.day && !options.from) throw new UsageError('give --day, or --from (and --to)');
  const format = options.format;
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
