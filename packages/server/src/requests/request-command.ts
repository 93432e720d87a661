import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Identifiers, RequestInput, RightsRequest } from '@lethe/api';
import { LetheClient } from '@lethe/client';
import { clientSettings, UsageError, usageErrors } from '../cli/args.js';

export const REQUEST_USAGE =
  'lethe request create --type dsar|delete|delete_pii [--strategy exact|connected] [--email E] [--phone P] ' +
  '[--subject ID] [--custom-key K] [--address A --city C --postal P --country CC] [--jurisdiction J] [--id ID]\n' +
  '         lethe request list [--status S] [--overdue] | show ID | import FILE.csv\n' +
  '         lethe request verify ID --method M | approve ID | deny ID --reason R | cancel ID --reason R\n' +
  '         lethe request extend ID --reason R | confirm-receipt ID | delivered ID | retry ID TASK\n' +
  '         lethe request approve-erasure ID TASK';
export const TICKET_USAGE = 'lethe ticket list | lethe ticket done ID TASK [--note N] [--deleted N]';

const STEPS: Record<string, string> = {
  verify: 'verify-identity',
  approve: 'approve',
  deny: 'deny',
  cancel: 'cancel',
  extend: 'extend',
  'confirm-receipt': 'confirm-receipt',
  delivered: 'delivered',
};

/** Rights requests from the command line; prints what the server answered. */
export async function requestCommand(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  const client = new LetheClient(clientSettings());
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        type: { type: 'string' },
        strategy: { type: 'string' },
        email: { type: 'string' },
        phone: { type: 'string' },
        subject: { type: 'string' },
        'custom-key': { type: 'string' },
        'custom-key-2': { type: 'string' },
        'custom-key-3': { type: 'string' },
        address: { type: 'string' },
        address2: { type: 'string' },
        city: { type: 'string' },
        state: { type: 'string' },
        postal: { type: 'string' },
        country: { type: 'string' },
        jurisdiction: { type: 'string' },
        id: { type: 'string' },
        status: { type: 'string' },
        overdue: { type: 'boolean' },
        reason: { type: 'string' },
        method: { type: 'string' },
      },
    }),
  );
  const id = () => positionals[0] ?? fail('the request id is missing');
  switch (action) {
    case 'create': {
      const input = {
        ...(values.id !== undefined ? { id: values.id } : {}),
        type: values.type ?? fail('--type is required'),
        ...(values.strategy !== undefined ? { strategy: values.strategy } : {}),
        ...(values.jurisdiction !== undefined ? { jurisdiction: values.jurisdiction } : {}),
        identifiers: identifiersFrom(values),
      } as RequestInput;
      return print(describe(await client.createRequest(input)));
    }
    case 'list': {
      const page = await client.listRequests({
        ...(values.status !== undefined ? { status: values.status } : {}),
        ...(values.overdue ? { overdue: true } : {}),
      });
      return print(page.items.map(describe).join('\n') || '(no requests)');
    }
    case 'show':
      return print(JSON.stringify(await client.getRequest(id()), null, 2));
    case 'import': {
      const text = await readFile(positionals[0] ?? fail('the CSV file is missing'), 'utf8');
      const result = await client.importRequests(text);
      const lines = [
        ...result.created.map((row) => `line ${row.line}: created ${row.id} (${row.status})`),
        ...result.rejected.map((row) => `line ${row.line}: rejected ${row.code}: ${row.message}`),
      ];
      print(lines.join('\n'));
      if (result.rejected.length > 0) process.exitCode = 1;
      return;
    }
    case 'retry':
      return print(describe(await client.retryTask(id(), taskNumber(positionals[1]))));
    case 'approve-erasure':
      return print(describe(await client.approveErasure(id(), taskNumber(positionals[1]))));
    default: {
      const step = action !== undefined ? STEPS[action] : undefined;
      if (step === undefined) throw new UsageError(`unknown request action "${action ?? ''}"`);
      const body =
        step === 'verify-identity'
          ? { method: values.method ?? fail('--method is required') }
          : ['deny', 'cancel', 'extend'].includes(step)
            ? { reason: values.reason ?? fail('--reason is required') }
            : {};
      return print(describe(await client.requestStep(id(), step, body)));
    }
  }
}

/** Tickets: tasks waiting for a person in a team. */
export async function ticketCommand(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  const client = new LetheClient(clientSettings());
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { note: { type: 'string' }, deleted: { type: 'string' } },
    }),
  );
  if (action === 'list') {
    const { items } = await client.listTickets();
    return print(
      items
        .map(
          (t) =>
            `${t.requestId} task ${t.task}  ${t.type}  system=${t.system ?? '-'} team=${t.team ?? '-'} due ${t.dueAt}`,
        )
        .join('\n') || '(no open tickets)',
    );
  }
  if (action === 'done') {
    const deleted = values.deleted === undefined ? undefined : Number(values.deleted);
    if (deleted !== undefined && (!Number.isInteger(deleted) || deleted < 0))
      fail('--deleted must be a count');
    const request = await client.completeTicket(
      positionals[0] ?? fail('the request id is missing'),
      taskNumber(positionals[1]),
      {
        ...(values.note !== undefined ? { note: values.note } : {}),
        ...(deleted !== undefined ? { deleted } : {}),
      },
    );
    return print(describe(request));
  }
  throw new UsageError(`unknown ticket action "${action ?? ''}"`);
}

function identifiersFrom(values: Record<string, string | boolean | undefined>): Identifiers {
  const text = (name: string) => (typeof values[name] === 'string' ? values[name] : undefined);
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
      ['customKey', text('custom-key')],
      ['customKey2', text('custom-key-2')],
      ['customKey3', text('custom-key-3')],
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
