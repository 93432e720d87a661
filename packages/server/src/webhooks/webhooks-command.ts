import type { Command } from 'commander';
import { WEBHOOK_EVENT_TYPES, type Webhook, type WebhookInput, type WebhookPatch } from '@lethe/api';
import { LetheClient } from '@lethe/client';
import { clientSettings, collect, jsonFlag, printJson, UsageError } from '../cli/args.js';
import { checkSecretsFile, secretsFileFlag, writeSecrets } from '../cli/secrets-file.js';

interface SecretOptions {
  secretsFile?: string;
  json?: boolean;
}

interface CreateOptions extends SecretOptions {
  url: string;
  event: string[];
  system?: string[];
  dueSoonDays?: string;
}

interface UpdateOptions {
  url?: string;
  event?: string[];
  system?: string[];
  allSystems?: boolean;
  dueSoonDays?: string;
  json?: boolean;
}

const EVENT_HELP = `an event type, repeatable: ${WEBHOOK_EVENT_TYPES.join(', ')}`;

/** `lethe webhooks list|create|update|rotate-secret|delete|deliveries|redeliver` (docs/webhooks.md). */
export function registerWebhooks(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('webhook subscriptions: Lethe POSTs signed events to a receiver');
  webhooks
    .command('list', { isDefault: true })
    .description('the subscriptions (never their secrets)')
    .addOption(jsonFlag())
    .action((options: { json?: boolean }) => listWebhooks(options));
  webhooks
    .command('create')
    .description('subscribe a receiver; prints its signing secret, shown this once')
    .argument('<name>', 'the subscription name')
    .requiredOption(
      '--url <url>',
      'the receiver: https (http only to loopback; a private or loopback address must be in LETHE_WEBHOOK_ALLOWED_NETWORKS)',
    )
    .requiredOption('--event <type>', EVENT_HELP, collect)
    .option('--system <name>', 'only events of these systems; repeatable', collect)
    .option('--due-soon-days <days>', 'request.due_soon fires this many days before the deadline (default 7)')
    .addOption(secretsFileFlag())
    .addOption(jsonFlag('print the subscription, with its secret unless written to a file, as JSON'))
    .action((name: string, options: CreateOptions) => createWebhook(name, options));
  webhooks
    .command('update')
    .description('change a subscription: only what is given changes')
    .argument('<name>', 'the subscription name')
    .option(
      '--url <url>',
      'the receiver: https (http only to loopback; a private or loopback address must be in LETHE_WEBHOOK_ALLOWED_NETWORKS)',
    )
    .option('--event <type>', `${EVENT_HELP}; replaces the list`, collect)
    .option('--system <name>', 'only events of these systems; repeatable; replaces the list', collect)
    .option('--all-systems', 'remove the system filter: events of every system')
    .option('--due-soon-days <days>', 'request.due_soon fires this many days before the deadline')
    .addOption(jsonFlag('print the subscription as JSON'))
    .action((name: string, options: UpdateOptions) => updateWebhook(name, options));
  webhooks
    .command('rotate-secret')
    .description('replace the signing secret; prints the new one, shown this once')
    .argument('<name>', 'the subscription name')
    .addOption(secretsFileFlag())
    .addOption(jsonFlag('print the subscription, with its secret unless written to a file, as JSON'))
    .action((name: string, options: SecretOptions) => rotateSecret(name, options));
  webhooks
    .command('delete')
    .description('remove a subscription, with its pending deliveries and its log')
    .argument('<name>', 'the subscription name')
    .action((name: string) => deleteWebhook(name));
  webhooks
    .command('deliveries')
    .description("a subscription's delivery log, newest first")
    .argument('<name>', 'the subscription name')
    .option('--limit <n>', 'at most this many (1-500, default 100)')
    .addOption(jsonFlag())
    .action((name: string, options: { limit?: string; json?: boolean }) => listDeliveries(name, options));
  webhooks
    .command('redeliver')
    .description("send a delivery's event again, as a new delivery")
    .argument('<id>', 'the delivery id (whd_…)')
    .addOption(jsonFlag('print the new delivery as JSON'))
    .action((id: string, options: { json?: boolean }) => redeliver(id, options));
}

async function listWebhooks(options: { json?: boolean }): Promise<void> {
  const list = await new LetheClient(clientSettings()).listWebhooks();
  if (options.json) return printJson(list);
  process.stdout.write('name\turl\tevents\tsystems\tdueSoonDays\n');
  for (const hook of list.items) {
    process.stdout.write(
      `${hook.name}\t${hook.url}\t${hook.events.join(',')}\t${hook.systems?.join(',') ?? '*'}\t${hook.dueSoonDays}\n`,
    );
  }
  process.stderr.write(`${list.items.length} webhook${list.items.length === 1 ? '' : 's'}\n`);
}

async function createWebhook(name: string, options: CreateOptions): Promise<void> {
  if (options.secretsFile) await checkSecretsFile(options.secretsFile);
  // The server checks the values (event types, days): one set of rules, the API's.
  const input = {
    name,
    url: options.url,
    events: options.event,
    ...(options.system ? { systems: options.system } : {}),
    ...(options.dueSoonDays !== undefined ? { dueSoonDays: Number(options.dueSoonDays) } : {}),
  } as WebhookInput;
  const hook = await new LetheClient(clientSettings()).createWebhook(input);
  await showSecret(hook, `webhook ${hook.name} created`, options);
}

async function updateWebhook(name: string, options: UpdateOptions): Promise<void> {
  if (options.system && options.allSystems) throw new UsageError('give --system or --all-systems, not both');
  const patch = {
    ...(options.url !== undefined ? { url: options.url } : {}),
    ...(options.event ? { events: options.event } : {}),
    ...(options.system ? { systems: options.system } : {}),
    ...(options.allSystems ? { systems: null } : {}),
    ...(options.dueSoonDays !== undefined ? { dueSoonDays: Number(options.dueSoonDays) } : {}),
  } as WebhookPatch;
  if (Object.keys(patch).length === 0)
    throw new UsageError(
      'nothing to change: give --url, --event, --system, --all-systems or --due-soon-days',
    );
  const hook = await new LetheClient(clientSettings()).updateWebhook(name, patch);
  if (options.json) return printJson(hook);
  process.stdout.write(
    `webhook ${hook.name} changed\t${hook.url}\t${hook.events.join(',')}\t${hook.systems?.join(',') ?? '*'}\t${hook.dueSoonDays}\n`,
  );
}

async function rotateSecret(name: string, options: SecretOptions): Promise<void> {
  if (options.secretsFile) await checkSecretsFile(options.secretsFile);
  const hook = await new LetheClient(clientSettings()).rotateWebhookSecret(name);
  await showSecret(hook, `webhook ${hook.name}: new secret, deliveries are signed with it only`, options);
}

/**
 * A secret the server shows this once: printed (an interactive command, as Standard Webhooks and
 * Stripe do), or with --secrets-file written to that file and left out of stdout.
 */
async function showSecret(hook: Webhook, done: string, options: SecretOptions): Promise<void> {
  const { secret, ...shown } = hook;
  if (options.secretsFile && secret !== undefined)
    await writeSecrets(options.secretsFile, { [hook.name]: secret });
  if (options.json) return printJson(options.secretsFile ? shown : hook);
  if (options.secretsFile) {
    process.stdout.write(`${done}\nsecret written to ${options.secretsFile}\n`);
    return;
  }
  process.stdout.write(`${done}\nsecret: ${secret ?? ''}\n`);
  process.stderr.write(
    `keep the secret now: it is not shown again (a new one: lethe webhooks rotate-secret ${hook.name})\n`,
  );
}

async function deleteWebhook(name: string): Promise<void> {
  await new LetheClient(clientSettings()).deleteWebhook(name);
  process.stdout.write(`webhook ${name} deleted\n`);
}

async function listDeliveries(name: string, options: { limit?: string; json?: boolean }): Promise<void> {
  const query = options.limit !== undefined ? { limit: Number(options.limit) } : {};
  const list = await new LetheClient(clientSettings()).listWebhookDeliveries(name, query);
  if (options.json) return printJson(list);
  process.stdout.write('id\ttype\tstatus\tattempts\tresponse\tcreatedAt\n');
  for (const d of list.items) {
    process.stdout.write(
      `${d.id}\t${d.type}\t${d.status}\t${d.attempts}\t${d.responseStatus ?? d.error ?? '-'}\t${d.createdAt}\n`,
    );
  }
}

async function redeliver(id: string, options: { json?: boolean }): Promise<void> {
  const delivery = await new LetheClient(clientSettings()).redeliverWebhookDelivery(id);
  if (options.json) return printJson(delivery);
  process.stdout.write(`delivery ${delivery.id} queued (redelivers ${id})\n`);
}
