import type { Command } from 'commander';
import type { Hold, HoldInput } from '@lethe/api';
import { LetheClient } from '@lethe/client';
import { clientSettings, collect, jsonFlag, printJson } from '../../cli/args.js';

interface SetOptions {
  reason: string;
  subject?: string[];
  system?: string[];
  category?: string[];
  policy?: string[];
  reviewAt?: string;
}

/** `lethe holds list|set|release`: legal holds from the command line (docs/retention.md). */
export function registerHolds(program: Command): void {
  const holds = program
    .command('holds')
    .description('legal holds: what they cover is not to be deleted until they are released');
  holds
    .command('list', { isDefault: true })
    .description('the standing holds: who placed them, why, since when and over what')
    .addOption(jsonFlag())
    .action((options: { json?: boolean }) => listHolds(options));
  holds
    .command('set')
    .description('place a hold, or change the one of that name (it keeps who placed it and when)')
    .argument('<name>', 'the hold name (a case or matter reference)')
    .requiredOption('--reason <text>', 'why: the matter, case or inquiry')
    .option('--subject <id>', 'only these subjects; repeatable', collect)
    .option('--system <name>', 'only fields these systems hold; repeatable', collect)
    .option('--category <key>', 'only fields of these data categories (and below); repeatable', collect)
    .option('--policy <name>', 'only fields these policies decide; repeatable', collect)
    .option('--review-at <instant>', 'when to review the hold (ISO 8601; advisory, it does not end)')
    .addOption(jsonFlag('print the hold as JSON'))
    .action((name: string, options: SetOptions & { json?: boolean }) => setHold(name, options));
  holds
    .command('release')
    .description('release a hold: what it kept past its expiry is due again at once')
    .argument('<name>', 'the hold name')
    .action((name: string) => releaseHold(name));
}

async function listHolds(options: { json?: boolean }): Promise<void> {
  const holds = await new LetheClient(clientSettings()).listHolds();
  if (options.json) return printJson({ items: holds });
  process.stdout.write('name\tsince\tby\treviewAt\tscope\treason\n');
  for (const hold of holds) {
    process.stdout.write(
      `${hold.name}\t${hold.createdAt}\t${hold.createdBy}\t${hold.reviewAt ?? '-'}\t${scopeOf(hold)}\t${hold.reason}\n`,
    );
  }
  process.stderr.write(`${holds.length} hold${holds.length === 1 ? '' : 's'}\n`);
}

/** The lists a hold is limited by, `everything` when it has none (a freeze of all Lethe knows). */
export function scopeOf(hold: Pick<Hold, 'subjects' | 'systems' | 'categories' | 'policies'>): string {
  const parts = (['subjects', 'systems', 'categories', 'policies'] as const)
    .filter((kind) => hold[kind] !== undefined)
    .map((kind) => `${kind}=${(hold[kind] ?? []).join(',')}`);
  return parts.length ? parts.join(' ') : 'everything';
}

async function setHold(name: string, options: SetOptions & { json?: boolean }): Promise<void> {
  const input: HoldInput = {
    reason: options.reason,
    ...(options.subject ? { subjects: options.subject } : {}),
    ...(options.system ? { systems: options.system } : {}),
    ...(options.category ? { categories: options.category } : {}),
    ...(options.policy ? { policies: options.policy } : {}),
    ...(options.reviewAt !== undefined ? { reviewAt: options.reviewAt } : {}),
  };
  const hold = await new LetheClient(clientSettings()).putHold(name, input);
  if (options.json) return printJson(hold);
  process.stdout.write(`hold ${hold.name} stands since ${hold.createdAt} (${scopeOf(hold)})\n`);
}

async function releaseHold(name: string): Promise<void> {
  await new LetheClient(clientSettings()).releaseHold(name);
  process.stdout.write(`hold ${name} released\n`);
}
