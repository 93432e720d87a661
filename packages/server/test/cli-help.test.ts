import { CommanderError, type Command } from 'commander';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { commandPath, letheProgram } from '../src/cli/program.js';
import {
  killAllServers,
  runLethe,
  startDemoServerAsAdmin,
  type ServerProcess,
} from './support/lethe-process.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The `lethe` CLI's own surface: version, help for every command, allowed values, `--json`. */

const scratch = mkdtempSync(join(tmpdir(), 'lethe-cli-help-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Every command a user can run (`request create`, `jobs`, …), as `lethe` declares them. */
function leaves(command: Command): Command[] {
  return command.commands.length === 0 ? [command] : command.commands.flatMap(leaves);
}
const COMMANDS = leaves(letheProgram()).map((command) => ({
  words: commandPath(command).split(' ').slice(1),
  flags: command.options.map((option) => option.long ?? option.flags),
}));

/**
 * `lethe ARGS` parsed by the program `main` runs, in this process, with what it prints captured:
 * for the help texts, which are commander's output whatever process prints them (a spawn of the
 * CLI costs about a second; the tests of the process itself, its exit codes and streams, spawn it).
 */
async function parsedInProcess(
  args: string[],
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const program = letheProgram();
  let stdout = '';
  let stderr = '';
  const everyCommand = (command: Command): Command[] => [command, ...command.commands.flatMap(everyCommand)];
  for (const command of everyCommand(program)) {
    command.exitOverride().configureOutput({
      writeOut: (text) => (stdout += text),
      writeErr: (text) => (stderr += text),
      // What the CLI's piped output wraps at (a terminal would give its own width).
      getOutHelpWidth: () => 80,
      getErrHelpWidth: () => 80,
    });
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    throw new Error(`lethe ${args.join(' ')} ran its action instead of printing its help`);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { exitCode: error.exitCode, stdout, stderr };
  }
}

describe.concurrent('lethe CLI help and version', { timeout: 90_000 }, () => {
  it('covers every command there is', ({ expect }) => {
    const names = COMMANDS.map((command) => command.words.join(' '));
    for (const name of ['serve', 'token create', 'request create', 'request list', 'consent import', 'jobs'])
      expect(names).toContain(name);
  });

  it('prints the package version with --version', async ({ expect }) => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const result = await runLethe(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it.for(COMMANDS)('answers `lethe $words --help` with its options', async ({ words, flags }, { expect }) => {
    const result = await parsedInProcess([...words, '--help']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Usage: lethe ${words.join(' ')}`);
    for (const flag of flags) expect(result.stdout).toContain(flag);
  });

  it('answers `lethe help request` like `lethe request --help`', async ({ expect }) => {
    const [viaHelp, viaFlag] = await Promise.all([
      runLethe(['help', 'request']),
      runLethe(['request', '--help']),
    ]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaHelp.stdout).toContain('approve-erasure');
  });

  it('answers `lethe serve --help` from the process, on stdout, exit code 0', async ({ expect }) => {
    const result = await runLethe(['serve', '--help']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Usage: lethe serve');
    expect(result.stdout).toBe((await parsedInProcess(['serve', '--help'])).stdout);
  });

  it('shows the allowed values of an enumerated option in its help', async ({ expect }) => {
    const result = await parsedInProcess(['request', 'create', '--help']);
    // Help wraps at 80 columns; the words matter, not where the lines break.
    const text = result.stdout.replace(/\s+/g, ' ');
    expect(text).toMatch(/--type <type>[\s\S]*"dsar", "delete", "delete_pii"/);
    expect(text).toMatch(/--jurisdiction <law>[\s\S]*"gdpr", "ccpa"/);
  });

  it('answers `consent import --help` without opening a file named --help', async ({ expect }) => {
    const result = await runLethe(['consent', 'import', '--help'], { LETHE_TOKEN: 'unused' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Usage: lethe consent import');
    expect(result.stderr).toBe('');
  });

  it.for([
    { args: ['request', 'create', '--type', 'erase'], allowed: 'dsar, delete, delete_pii' },
    {
      args: ['request', 'create', '--type', 'dsar', '--jurisdiction', 'eu'],
      allowed: 'gdpr, ccpa, pipeda, lgpd, app',
    },
    { args: ['request', 'create', '--type', 'dsar', '--strategy', 'all'], allowed: 'exact, connected' },
    { args: ['jobs', '--state', 'stuck'], allowed: 'queued, running, done, failed, superseded' },
    { args: ['expiries', '--day', '2025-01-05', '--level', 'row'], allowed: 'field, subject' },
    {
      args: ['connectors', 'import-fides', 'x.yml', '--name', 'n', '--type', 'oracle', '--url-env', 'U'],
      allowed: 'postgres, mysql, sqlite',
    },
  ])('refuses `$args` with exit 2, naming the allowed values', async ({ args, allowed }, { expect }) => {
    // A server that is not there: the value must be refused before anything is sent.
    const result = await runLethe(args, { LETHE_TOKEN: 'unused', LETHE_URL: 'http://127.0.0.1:9' });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`Allowed choices are ${allowed}.`);
  });

  it('refuses a malformed day with exit 2, naming the form', async ({ expect }) => {
    const result = await runLethe(['expiries', '--day', '5.1.2025'], { LETHE_TOKEN: 'unused' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('YYYY-MM-DD');
  });

  it('exits 2 on an unknown option or a missing argument', async ({ expect }) => {
    const [unknown, missing] = await Promise.all([
      runLethe(['jobs', '--colour']),
      runLethe(['request', 'show'], { LETHE_TOKEN: 'unused' }),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--colour'");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'id'");
  });
});

describe('lethe CLI --json', { timeout: 90_000 }, () => {
  let server: ServerProcess;
  let env: { LETHE_URL: string; LETHE_TOKEN: string };

  beforeAll(async () => {
    ({ server, env } = await startDemoServerAsAdmin(join(scratch, 'data')));
  });
  afterAll(async () => {
    await server?.stop();
    await killAllServers();
  });

  it('prints the API JSON of request list/show, ticket list and jobs', async ({ expect }) => {
    const created = await runLethe(
      ['request', 'create', '--type', 'dsar', '--subject', 'u-1001', '--id', 'cli-json-1'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const [list, show, tickets, jobs] = await Promise.all([
      runLethe(['request', 'list', '--json'], env),
      runLethe(['request', 'show', 'cli-json-1', '--json'], env),
      runLethe(['ticket', 'list', '--json'], env),
      runLethe(['jobs', '--json'], env),
    ]);
    for (const result of [list, show, tickets, jobs]) expect(result.code, result.stderr).toBe(0);
    const page = JSON.parse(list.stdout) as { items: { id: string }[] };
    expect(page.items.map((item) => item.id)).toContain('cli-json-1');
    expect(JSON.parse(show.stdout)).toMatchObject({ id: 'cli-json-1', type: 'dsar' });
    expect(Array.isArray((JSON.parse(tickets.stdout) as { items: unknown }).items)).toBe(true);
    expect(Array.isArray((JSON.parse(jobs.stdout) as { items: unknown }).items)).toBe(true);
  });
  it('webhooks: create (secret once), list, deliveries, redeliver, delete', async ({ expect }) => {
    const created = await runLethe(
      [
        'webhooks',
        'create',
        'cli-hook',
        '--url',
        'http://localhost:9/hook',
        '--event',
        'request.failed',
        '--json',
      ],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'cli-hook', events: ['request.failed'] });
    expect((JSON.parse(created.stdout) as { secret: string }).secret).toMatch(/^whsec_/);
    const badEvent = await runLethe(
      ['webhooks', 'create', 'bad', '--url', 'http://localhost:9/x', '--event', 'request.exploded'],
      env,
    );
    expect(badEvent.code).toBe(1);
    expect(badEvent.stderr).toContain('VALIDATION_FAILED');
    const [json, table, deliveries] = await Promise.all([
      runLethe(['webhooks', 'list', '--json'], env),
      runLethe(['webhooks'], env),
      runLethe(['webhooks', 'deliveries', 'cli-hook', '--json'], env),
    ]);
    expect(json.stdout).not.toContain('whsec_');
    expect((JSON.parse(json.stdout) as { items: { name: string }[] }).items.map((w) => w.name)).toEqual([
      'cli-hook',
    ]);
    expect(table.stdout).toMatch(/^cli-hook\thttp:\/\/localhost:9\/hook\trequest\.failed\t\*\t7$/m);
    expect(JSON.parse(deliveries.stdout)).toEqual({ items: [] });
    const redeliver = await runLethe(['webhooks', 'redeliver', `whd_${'0'.repeat(32)}`], env);
    expect(redeliver.code).toBe(1);
    expect(redeliver.stderr).toContain('WEBHOOK_DELIVERY_NOT_FOUND');
    const deleted = await runLethe(['webhooks', 'delete', 'cli-hook'], env);
    expect(deleted).toMatchObject({ code: 0, stdout: 'webhook cli-hook deleted\n' });
    const again = await runLethe(['webhooks', 'delete', 'cli-hook'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('WEBHOOK_NOT_FOUND');
  });
  it('holds: set, list (table and --json), kept by apply --prune, release', async ({ expect }) => {
    const set = await runLethe(
      ['holds', 'set', 'case-7', '--reason', 'Case 7', '--system', 'orders', '--json'],
      env,
    );
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ name: 'case-7', reason: 'Case 7', systems: ['orders'] });
    const [json, table] = await Promise.all([
      runLethe(['holds', 'list', '--json'], env),
      runLethe(['holds'], env),
    ]);
    expect((JSON.parse(json.stdout) as { items: { name: string }[] }).items.map((h) => h.name)).toEqual([
      'case-7',
    ]);
    expect(table.stdout).toMatch(/^case-7\t\S+\t\S+\t-\tsystems=orders\tCase 7$/m);

    // The export carries the hold; the same manifest without it keeps the hold under --prune.
    const exported = await runLethe(['export'], env);
    expect(exported.code, exported.stderr).toBe(0);
    const manifest = parse(exported.stdout) as { holds?: unknown };
    expect(manifest.holds).toEqual([{ name: 'case-7', reason: 'Case 7', systems: ['orders'] }]);
    delete manifest.holds;
    const file = join(scratch, 'without-holds.yaml');
    writeFileSync(file, stringify(manifest));
    const pruned = await runLethe(['apply', '-f', file, '--prune', '--dry-run'], env);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain(
      '! holds case-7 kept (release with DELETE /v1/holds/case-7 or `lethe holds release case-7`)\n',
    );
    expect(pruned.stdout).toMatch(/ 0 removed, 1 kept\n$/);

    const released = await runLethe(['holds', 'release', 'case-7'], env);
    expect(released).toMatchObject({ code: 0, stdout: 'hold case-7 released\n' });
    const again = await runLethe(['holds', 'release', 'case-7'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('HOLD_NOT_FOUND');
  });
});
