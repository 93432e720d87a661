import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import {
  JURISDICTIONS,
  REQUEST_STRATEGIES,
  REQUEST_TYPES,
  type Identifiers,
  type RequestInput,
  type RightsRequest,
  type TicketDoneInput,
} from '@lethe/api';
import { LetheClient } from '@lethe/client';
import { choiceOption, clientSettings, jsonFlag, printJson, UsageError } from '../cli/args.js';

/** Identifier options of `request create`: flag, key in the request, what it is. */
const IDENTIFIER_OPTIONS = [
  ['--subject <id>', 'the subject id'],
  ['--email <email>', 'an e-mail address'],
  ['--phone <phone>', 'a phone number'],
  ['--custom-key <key>', "the installation's own identifier"],
  ['--custom-key-2 <key>', 'a second own identifier'],
  ['--custom-key-3 <key>', 'a third own identifier'],
  ['--address <line>', 'an address (every part given must match)'],
  ['--address2 <line>', 'address, second line'],
  ['--city <city>', 'address, city'],
  ['--state <state>', 'address, state'],
  ['--postal <code>', 'address, postal code'],
  ['--country <country>', 'address, country'],
] as const;

/** Workflow steps with a request id only, or with a required `--reason`/`--method`. */
const STEPS: readonly { name: string; step: string; description: string; needs?: 'reason' | 'method' }[] = [
  {
    name: 'verify',
    step: 'verify-identity',
    description: "record that the requester's identity was verified",
    needs: 'method',
  },
  { name: 'approve', step: 'approve', description: 'approve the request' },
  { name: 'deny', step: 'deny', description: 'deny the request', needs: 'reason' },
  { name: 'cancel', step: 'cancel', description: 'cancel the request', needs: 'reason' },
  { name: 'extend', step: 'extend', description: 'extend the deadline as the law allows', needs: 'reason' },
  { name: 'confirm-receipt', step: 'confirm-receipt', description: 'confirm that the request was received' },
  { name: 'delivered', step: 'delivered', description: 'record that the answer was delivered' },
];

/** Rights requests from the command line; prints what the server answered. */
export function registerRequest(program: Command): void {
  const request = program
    .command('request')
    .description('privacy rights requests (DSAR, delete, delete_pii)');
  const create = request
    .command('create')
    .description('open a rights request for the subject the identifiers name')
    .addOption(choiceOption('--type <type>', 'the kind of request (required)', REQUEST_TYPES))
    .addOption(
      choiceOption('--strategy <strategy>', 'which records the identifiers reach', REQUEST_STRATEGIES),
    )
    .addOption(choiceOption('--jurisdiction <law>', 'the law that sets the deadline', JURISDICTIONS))
    .option('--id <id>', 'an id of your own (makes a retry idempotent)');
  for (const [flags, description] of IDENTIFIER_OPTIONS) create.option(flags, description);
  create.action(async (values: Record<string, string | undefined>) => {
    const input = {
      ...(values['id'] !== undefined ? { id: values['id'] } : {}),
      type: values['type'] ?? fail(`--type is required: one of ${REQUEST_TYPES.join(', ')}`),
      ...(values['strategy'] !== undefined ? { strategy: values['strategy'] } : {}),
      ...(values['jurisdiction'] !== undefined ? { jurisdiction: values['jurisdiction'] } : {}),
      identifiers: identifiersFrom(values),
    } as RequestInput;
    print(describe(await client().createRequest(input)));
  });
  request
    .command('list')
    .description('rights requests, one line each')
    .option('--status <status>', 'only requests in this status')
    .option('--overdue', 'only requests past their deadline')
    .addOption(jsonFlag())
    .action(async (values: { status?: string; overdue?: boolean; json?: boolean }) => {
      const page = await client().listRequests({
        ...(values.status !== undefined ? { status: values.status } : {}),
        ...(values.overdue ? { overdue: true } : {}),
      });
      if (values.json) return printJson(page);
      print(page.items.map(describe).join('\n') || '(no requests)');
    });
  request
    .command('show')
    .description('one request with its tasks, as JSON')
    .argument('<id>', 'the request id')
    .addOption(jsonFlag('the same JSON (accepted like on the list commands)'))
    .action(async (id: string) => printJson(await client().getRequest(id)));
  request
    .command('import')
    .description('open requests from a CSV file; exit 1 when lines were rejected')
    .argument('<file>', 'the CSV file')
    .action(async (file: string) => {
      const text = await readFile(file, 'utf8');
      const result = await client().importRequests(text);
      const lines = [
        ...result.created.map((row) => `line ${row.line}: created ${row.id} (${row.status})`),
        ...result.rejected.map((row) => `line ${row.line}: rejected ${row.code}: ${row.message}`),
      ];
      print(lines.join('\n'));
      if (result.rejected.length > 0) process.exitCode = 1;
    });
  for (const { name, step, description, needs } of STEPS) {
    const command = request.command(name).description(description).argument('<id>', 'the request id');
    if (needs === 'method') command.requiredOption('--method <method>', 'how the identity was verified');
    if (needs === 'reason') command.requiredOption('--reason <reason>', 'why, for the requester and the log');
    command.action(async (id: string, values: { method?: string; reason?: string }) => {
      const body =
        needs === 'method' ? { method: values.method } : needs === 'reason' ? { reason: values.reason } : {};
      print(describe(await client().requestStep(id, step, body)));
    });
  }
  request
    .command('retry')
    .description('run a failed task again')
    .argument('<id>', 'the request id')
    .argument('<task>', 'the task number (1, 2, …)')
    .action(async (id: string, task: string) =>
      print(describe(await client().retryTask(id, taskNumber(task)))),
    );
  request
    .command('skip')
    .description('complete the request without this task; the reason is reported (admin, dpo)')
    .argument('<id>', 'the request id')
    .argument('<task>', 'the task number (1, 2, …)')
    .requiredOption('--reason <reason>', 'why the system is skipped, for the report and the log')
    .action(async (id: string, task: string, values: { reason: string }) =>
      print(describe(await client().skipTask(id, taskNumber(task), values.reason))),
    );
  findingsOptions(
    request
      .command('mark-done')
      .description('mark a task done by hand: its team handled it outside Lethe (admin, dpo)')
      .argument('<id>', 'the request id')
      .argument('<task>', 'the task number (1, 2, …)')
      .requiredOption('--note <note>', 'what was done, for the log'),
  ).action(async (id: string, task: string, values: FindingsValues & { note: string }) =>
    print(
      describe(
        await client().markTaskDone(id, taskNumber(task), {
          ...(await findingsFrom(values)),
          note: values.note,
        }),
      ),
    ),
  );
  request
    .command('approve-erasure')
    .description('let a task that waits for approval erase')
    .argument('<id>', 'the request id')
    .argument('<task>', 'the task number (1, 2, …)')
    .action(async (id: string, task: string) =>
      print(describe(await client().approveErasure(id, taskNumber(task)))),
    );
}

/** Tickets: tasks waiting for a person in a team. */
export function registerTicket(program: Command): void {
  const ticket = program.command('ticket').description('tasks of rights requests waiting for a person');
  ticket
    .command('list')
    .description('open tickets, one line each')
    .addOption(jsonFlag())
    .action(async (values: { json?: boolean }) => {
      const page = await client().listTickets();
      if (values.json) return printJson(page);
      print(
        page.items
          .map(
            (t) =>
              `${t.requestId} task ${t.task}  ${t.type}  system=${t.system ?? '-'} team=${t.team ?? '-'} due ${t.dueAt}`,
          )
          .join('\n') || '(no open tickets)',
      );
    });
  findingsOptions(
    ticket
      .command('done')
      .description('mark a ticket done')
      .argument('<id>', 'the request id')
      .argument('<task>', 'the task number (1, 2, …)')
      .option('--note <note>', 'a note for the log'),
  ).action(async (id: string, task: string, values: FindingsValues & { note?: string }) => {
    const request = await client().completeTicket(id, taskNumber(task), {
      ...(await findingsFrom(values)),
      ...(values.note !== undefined ? { note: values.note } : {}),
    });
    print(describe(request));
  });
}

interface FindingsValues {
  deleted?: string;
  records?: string;
  file?: string;
  contentType: string;
}

/** What a team found or did by hand: a count deleted, a DSAR's records (a JSON file) and one file. */
function findingsOptions(command: Command): Command {
  return command
    .option('--deleted <count>', 'how many records were deleted')
    .option('--records <path>', 'a DSAR: a JSON file with an array of {dataset?, pk?, fields} found')
    .option('--file <path>', 'a DSAR: one file for the person (at most 5 MiB)')
    .option('--content-type <type>', "the file's media type", 'application/octet-stream');
}

async function findingsFrom(values: FindingsValues): Promise<Omit<TicketDoneInput, 'note'>> {
  const deleted = values.deleted === undefined ? undefined : Number(values.deleted);
  if (deleted !== undefined && (!Number.isInteger(deleted) || deleted < 0)) fail('--deleted must be a count');
  let records: TicketDoneInput['records'];
  if (values.records !== undefined) {
    try {
      records = JSON.parse(await readFile(values.records, 'utf8')) as TicketDoneInput['records'];
    } catch (error) {
      fail(`--records: ${values.records} is not a JSON file (${(error as Error).message})`);
    }
    if (!Array.isArray(records)) fail('--records must hold a JSON array of {dataset?, pk?, fields}');
  }
  const file =
    values.file === undefined
      ? undefined
      : {
          name: basename(values.file),
          contentType: values.contentType,
          contentBase64: (await readFile(values.file)).toString('base64'),
        };
  return {
    ...(deleted !== undefined ? { deleted } : {}),
    ...(records !== undefined ? { records } : {}),
    ...(file !== undefined ? { file } : {}),
  };
}

function client(): LetheClient {
  return new LetheClient(clientSettings());
}

function identifiersFrom(values: Record<string, string | undefined>): Identifiers {
  const text = (name: string) => values[name];
  const pick = <K extends string>(entries: [K, string | undefined][]) =>
    Object.fromEntries(entries.filter(([, value]) => value !== undefined)) as Partial<Record<K, string>>;
  const address = pick([
    ['address', text('address')],
    ['address2', text('address2')],
    ['city', text('city')],
    ['state', text('state')],
    ['postal', text('postal')],
    ['country', text('country')],
  ]);
  return {
    ...pick([
      ['subject', text('subject')],
      ['email', text('email')],
      ['phone', text('phone')],
      ['customKey', text('customKey')],
      ['customKey2', text('customKey2')],
      ['customKey3', text('customKey3')],
    ]),
    ...(Object.keys(address).length > 0 ? { address: address as Identifiers['address'] } : {}),
  };
}

function describe(request: RightsRequest): string {
  const tasks = request.tasks
    ? `  tasks=${request.tasks.map((t) => `${t.task}:${t.target}:${t.state}`).join(',')}`
    : '';
  const due = request.overdue
    ? `OVERDUE since ${request.dueAt}`
    : `due ${request.dueAt} (${request.daysLeft} days)`;
  return `${request.id}  ${request.type}/${request.strategy}  ${request.status}  ${request.masked}  ${due}${tasks}`;
}

function taskNumber(text: string | undefined): number {
  const task = Number(text);
  if (!Number.isInteger(task) || task < 1) fail('the task number (1, 2, …) is missing');
  return task;
}

function fail(message: string): never {
  throw new UsageError(message);
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
