import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExpiryItem, Policy, PolicyVersion, System } from '@lethe/api';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createLethe } from '../src/server.js';
import {
  api,
  killAllServers,
  runLethe,
  startServer,
  type CliResult,
  type ServerProcess,
} from './support/lethe-process.js';

/** The `lethe` CLI as a user runs it: exit codes, messages, and its effect on a real server. */

const scratch = mkdtempSync(join(tmpdir(), 'lethe-cli-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** A fresh directory under the scratch dir. */
function directory(name: string): string {
  counter += 1;
  const path = join(scratch, `${counter}-${name}`);
  mkdirSync(path, { recursive: true });
  return path;
}

/** Writes a manifest and returns its path. */
function manifest(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** 1-based line of the first line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index === -1) throw new Error(`"${needle}" is not in the manifest`);
  return index + 1;
}

// Each CLI start costs a second or two of CPU; on a loaded machine the default 30 s is tight.
describe.concurrent('lethe CLI', { timeout: 90_000 }, () => {
  // Every token command names a data dir of its own, so that a broken check can never create
  // ./lethe-data in the checkout.
  const unusedDataDir = () => directory('unused-data');

  it('prints the usage and exits 2 without a command', async ({ expect }) => {
    const result = await runLethe([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('Usage: lethe');
    for (const command of ['serve', 'token', 'apply', 'expiries', 'request', 'consent']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it('names an unknown command and exits 2', async ({ expect }) => {
    const result = await runLethe(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
    expect(result.stderr).toContain('--help');
  });

  it('refuses an unknown role, naming the roles there are', async ({ expect }) => {
    const result = await runLethe(['token', 'create', '--role', 'wizard', '--data-dir', unusedDataDir()]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    for (const role of ['admin', 'dpo', 'auditor', 'service']) expect(result.stderr).toContain(role);
  });

  it('refuses a token that would live longer than 12h', async ({ expect }) => {
    const result = await runLethe([
      'token',
      'create',
      '--role',
      'admin',
      '--ttl',
      '13h',
      '--data-dir',
      unusedDataDir(),
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('at most 12h');
  });

  it('refuses a service token without --system', async ({ expect }) => {
    const result = await runLethe(['token', 'create', '--role', 'service', '--data-dir', unusedDataDir()]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--system');
  });

  it('asks for LETHE_TOKEN when a client command has none', async ({ expect }) => {
    // The helper never passes the developer's own LETHE_TOKEN on.
    const result = await runLethe(['expiries', '--day', '2025-01-05'], { LETHE_URL: 'http://127.0.0.1:9' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Set LETHE_TOKEN');
    expect(result.stderr).toContain('lethe token create');
  });

  // Against a running server (lethe serve --demo). It starts with the tests above, not before them.
  let dataDir: string;
  let server: ServerProcess;
  let token: string;
  let env: { LETHE_URL: string; LETHE_TOKEN: string };
  let ready: Promise<void>;

  beforeAll(() => {
    ready = (async () => {
      dataDir = directory('data');
      server = await startServer({ dataDir, demo: true });
      const minted = await runLethe([
        'token',
        'create',
        '--role',
        'admin',
        '--ttl',
        '1h',
        '--data-dir',
        dataDir,
      ]);
      if (minted.code !== 0) throw new Error(`token create failed: ${minted.stderr}`);
      token = minted.stdout.trim();
      env = { LETHE_URL: server.url, LETHE_TOKEN: token };
    })();
    ready.catch(() => undefined); // awaited (and reported) by each test that needs the server
  });
  afterAll(async () => {
    await server?.stop();
    await killAllServers();
  });

  const get = (path: string) => api(server.url, token, 'GET', path);

  it('mints a token the server accepts, and one from another data dir gets 401 TOKEN_INVALID', async ({
    expect,
  }) => {
    await ready;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/); // stdout holds the token and nothing else
    const policies = await get('/v1/policies');
    expect(policies.status).toBe(200);
    expect((policies.body as { items: Policy[] }).items.map((p) => p.name)).toContain('user-account-access');

    const otherDir = directory('other');
    await (await createLethe({ dataDir: otherDir })).close(); // a store of its own, as `lethe serve` makes
    const other = await runLethe(['token', 'create', '--role', 'admin', '--data-dir', otherDir]);
    expect(other.code).toBe(0);
    const refused = await api(server.url, other.stdout.trim(), 'GET', '/v1/policies');
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
  });

  it('apply: a retention the server refuses names the file, the line of the entry and the code', async ({
    expect,
  }) => {
    await ready;
    const text = [
      'policies:',
      '  - name: cli-fine',
      '    purpose: essential.account',
      '    retention: P1Y',
      '    legalBasis: contract',
      '  - name: cli-bad-retention',
      '    purpose: essential.account',
      '    retention: P2X',
      '    legalBasis: contract',
      '',
    ].join('\n');
    const file = manifest(directory('bad-retention'), 'policies.yaml', text);
    const result = await runLethe(['apply', '-f', file], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:${lineOf(text, 'name: cli-bad-retention')}: policies[1]`);
    expect(result.stderr).toContain('INVALID_DURATION');
    expect(result.stderr).toContain('P2X');
    expect((await get('/v1/policies/cli-bad-retention')).status).toBe(404);
    // One manifest is one transaction: the entry before the refused one is not kept either.
    expect((await get('/v1/policies/cli-fine')).status).toBe(404);
  });

  it('apply: an unknown property stops the run at file:line before anything is sent', async ({ expect }) => {
    await ready;
    const text = [
      'policies:',
      '  - name: cli-never-sent-1',
      '    purpose: essential.account',
      '    retention: P1Y',
      '    legalBasis: contract',
      'systems:',
      '  - name: cli-never-sent-system',
      '    team: growth',
      '    owner: alice',
      '',
    ].join('\n');
    const file = manifest(directory('unknown-property'), 'manifest.yaml', text);
    const result = await runLethe(['apply', '-f', file], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:${lineOf(text, 'owner: alice')}: systems[0].owner`);
    expect(result.stderr).toContain('unknown property');
    expect(result.stdout).not.toContain('applied');
    expect((await get('/v1/policies/cli-never-sent-1')).status).toBe(404);
    expect((await get('/v1/systems/cli-never-sent-system')).status).toBe(404);
  });

  const brokenYaml = [
    'policies:',
    '  - name: cli-broken',
    '    purpose: essential.account',
    '   retention: P2Y', // one space short
    '    legalBasis: contract',
    '',
  ].join('\n');
  const goodYaml = [
    'policies:',
    '  - name: cli-never-sent-2',
    '    purpose: essential.account',
    '    retention: P1Y',
    '    legalBasis: contract',
    '',
  ].join('\n');

  /** One run serves both tests below: `-f good -f broken`, the broken file second. */
  let syntaxRun: Promise<{ broken: string; result: CliResult }> | undefined;
  const applyBrokenYaml = () =>
    (syntaxRun ??= (async () => {
      const dir = directory('syntax');
      const good = manifest(dir, 'a-good.yaml', goodYaml);
      const broken = manifest(dir, 'b-broken.yaml', brokenYaml);
      return { broken, result: await runLethe(['apply', '-f', good, '-f', broken], env) };
    })());

  it('apply: a YAML syntax error in any file stops the run before anything is sent', async ({ expect }) => {
    await ready;
    const { broken, result } = await applyBrokenYaml();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(broken);
    expect(result.stdout).not.toContain('applied');
    expect((await get('/v1/policies/cli-never-sent-2')).status).toBe(404);
    expect((await get('/v1/policies/cli-broken')).status).toBe(404);
  });

  it('apply: a YAML syntax error is reported with its line', async ({ expect }) => {
    await ready;
    const { broken, result } = await applyBrokenYaml();
    expect(result.stderr).toContain(`${broken}:${lineOf(brokenYaml, 'retention: P2Y')}: `);
  });

  it('apply: a misspelled key is reported with its line and its name', async ({ expect }) => {
    await ready;
    const text = [
      'policies:',
      '  - name: cli-typo',
      '    purpose: essential.account',
      '    retentoin: P2Y',
      '    legalBasis: contract',
      '',
    ].join('\n');
    const file = manifest(directory('typo'), 'typo.yaml', text);
    const result = await runLethe(['apply', '-f', file], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:${lineOf(text, 'retentoin')}`);
    expect(result.stderr).toContain('retentoin');
  });

  it('apply -f DIR applies its policies and systems, and applying it again changes nothing', async ({
    expect,
  }) => {
    await ready;
    const dir = directory('manifests');
    manifest(
      dir,
      '01-policies.yaml',
      [
        '# Policies as code',
        'policies:',
        '  - name: cli-account',
        '    purpose: essential.account',
        '    retention: P2Y',
        '    legalBasis: contract',
        '    description: Signing in and keeping the account.',
        '  - name: cli-newsletter',
        '    purpose: marketing.email',
        '    retention: P6M',
        '    legalBasis: consent',
        '',
      ].join('\n'),
    );
    manifest(
      dir,
      '02-systems.yml',
      [
        'systems:',
        '  - name: cli-crm',
        '    team: growth',
        '    description: Customer relationship management.',
        '    datasets:',
        '      - name: crm_contacts',
        '        fields:',
        '          - { name: email, categories: [user.contact.email] }',
        '          - { name: phone, categories: [user.contact.phone_number] }',
        '',
      ].join('\n'),
    );
    // Not a manifest: a directory stands for its .yaml/.yml files only.
    manifest(dir, 'README.md', 'policies: [this is not yaml that apply should ever read\n');

    const first = await runLethe(['apply', '-f', dir], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const firstLines = first.stdout.trim().split('\n');
    expect(firstLines).toHaveLength(4);
    expect(firstLines[0]).toMatch(/^\+ policies cli-account created {2}\(.*01-policies\.yaml:3\)$/);
    expect(firstLines[1]).toMatch(/^\+ policies cli-newsletter created {2}\(.*01-policies\.yaml:8\)$/);
    expect(firstLines[2]).toMatch(/^\+ systems cli-crm created {2}\(.*02-systems\.yml:2\)$/);
    expect(firstLines[3]).toBe('3 created, 0 changed, 0 unchanged, 0 removed');

    const account = (await get('/v1/policies/cli-account')).body as Policy;
    expect(account).toMatchObject({
      name: 'cli-account',
      purpose: 'essential.account',
      retention: 'P2Y',
      legalBasis: 'contract',
      description: 'Signing in and keeping the account.',
      version: 1,
      status: 'active',
    });
    expect((await get('/v1/policies/cli-newsletter')).body).toMatchObject({
      retention: 'P6M',
      legalBasis: 'consent',
      version: 1,
    });
    const crm = (await get('/v1/systems/cli-crm')).body as System;
    expect(crm).toMatchObject({
      team: 'growth',
      description: 'Customer relationship management.',
      datasets: [
        {
          name: 'crm_contacts',
          fields: [
            { name: 'email', categories: ['user.contact.email'] },
            { name: 'phone', categories: ['user.contact.phone_number'] },
          ],
        },
      ],
    });

    const second = await runLethe(['apply', '-f', dir], env);
    expect(second.code).toBe(0);
    expect(second.stdout.trim().split('\n').at(-1)).toBe('0 created, 0 changed, 3 unchanged, 0 removed');
    expect((await get('/v1/policies/cli-account')).body).toEqual(account);
    const versions = (await get('/v1/policies/cli-account/versions')).body as { items: PolicyVersion[] };
    expect(versions.items.map((v) => v.version)).toEqual([1]);
    expect((await get('/v1/systems/cli-crm')).body).toEqual(crm);
  });

  it('export writes YAML that apply takes back unchanged (a dry run finds nothing to do)', async ({
    expect,
  }) => {
    await ready;
    const file = join(directory('export'), 'map.yaml');
    const exported = await runLethe(['export', '-o', file], env);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    for (const section of ['organisation:', 'teams:', 'policies:', 'systems:', 'flows:', 'clients:']) {
      expect(text).toContain(`\n${section}`);
    }
    const dry = await runLethe(['apply', '-f', file, '--dry-run'], env);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    const summary = dry.stdout.trim().split('\n').at(-1);
    expect(summary).toMatch(/^dry run, nothing applied: 0 created, 0 changed, \d+ unchanged, 0 removed$/);
  });

  // The demo's DESIGN.md §4 subject: account opened 2023-01-05 under a P2Y policy.
  const DEMO_ROWS = ['accounts.email', 'accounts.name', 'accounts.password_hash'].map((field) => ({
    subject: 'u-1001',
    field,
    expiresAt: '2025-01-05T10:00:00.000Z',
    policy: 'user-account-access',
    system: 'accounts',
    status: 'due',
  }));

  it('expiries --day prints that day as a table', async ({ expect }) => {
    await ready;
    const result = await runLethe(['expiries', '--day', '2025-01-05'], env);
    expect(result.code).toBe(0);
    const [header, ...lines] = result.stdout.trimEnd().split('\n');
    expect(header).toBe('expiresAt\tsubject\tfield\tpolicy\tsystem\tstatus');
    const rows = lines.map((line) => {
      const [expiresAt, subject, field, policy, system, status] = line.split('\t');
      return { subject, field, expiresAt, policy, system, status };
    });
    for (const row of rows) expect(row.expiresAt).toMatch(/^2025-01-05T/);
    expect(rows.filter((row) => row.subject === 'u-1001')).toEqual(DEMO_ROWS);
    expect(result.stderr).toContain(`${rows.length} expir`);
  });

  it('jobs lists recomputes and follows one to its end', async ({ expect }) => {
    await ready;
    const policy = { purpose: 'essential.account', legalBasis: 'contract' };
    await api(server.url, token, 'PUT', '/v1/policies/cli-jobs', { ...policy, retention: 'P1D' });
    const changed = await api(server.url, token, 'PUT', '/v1/policies/cli-jobs', {
      ...policy,
      retention: 'P2D',
      reason: 'longer',
    });
    const id = (changed.body as Policy).recompute?.job as string;
    const listed = await runLethe(['jobs'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${id}\t`);
    const followed = await runLethe(['jobs', id, '--wait'], env);
    expect(followed.code).toBe(0);
    expect(JSON.parse(followed.stdout)).toMatchObject({
      id,
      state: 'done',
      policy: 'cli-jobs',
      policyVersion: 2,
    });
    const unknown = await runLethe(['jobs', `job_${'0'.repeat(32)}`], env);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('JOB_NOT_FOUND') });
  });

  it('expiries --format ndjson prints one parseable item per line', async ({ expect }) => {
    await ready;
    const result = await runLethe(['expiries', '--day', '2025-01-05', '--format', 'ndjson'], env);
    expect(result.code).toBe(0);
    const items = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as ExpiryItem);
    for (const item of items) expect(item.expiresAt).toMatch(/^2025-01-05T/);
    expect(items.filter((item) => item.subject === 'u-1001')).toEqual(DEMO_ROWS);
  });

  it('consent import sends a file, reports bad lines and moves expiries', async ({ expect }) => {
    await ready;
    const file = join(directory('consent'), 'consent.ndjson');
    writeFileSync(
      file,
      [
        '{"subject":"cli-consent-1","purposes":{"marketing.email":true},"at":"2024-01-01T00:00:00Z","method":"import"}',
        '{"subject":"cli-consent-1","purposes":{"no.such.purpose":true}}',
      ].join('\n'),
    );
    const result = await runLethe(['consent', 'import', file], env);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('line 2: rejected CONSENT_PURPOSE_UNKNOWN');
    expect(result.stdout).toContain('recorded 1 consent events for 1 subjects');
    const consent = (await get('/v1/subjects/cli-consent-1/consent')).body as {
      purposes: Record<string, { granted: boolean }>;
    };
    expect(consent.purposes['marketing.email']?.granted).toBe(true);
    expect((await runLethe(['consent', 'export'], env)).code).toBe(2);
  });

  it('request create / ticket list / ticket done / request show drive a rights request', async ({
    expect,
  }) => {
    await ready;
    const created = await runLethe(
      ['request', 'create', '--type', 'dsar', '--subject', 'u-1001', '--id', 'cli-dsar-1'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^cli-dsar-1 {2}dsar\/exact {2}in_progress /);
    // The runner opens the tickets (systems without a client, ticket clients) within a tick or two.
    let listed = '';
    for (let tries = 0; tries < 40 && !listed.includes('cli-dsar-1'); tries += 1) {
      listed = (await runLethe(['ticket', 'list'], env)).stdout;
    }
    const line = listed.split('\n').find((row) => row.startsWith('cli-dsar-1 task'));
    expect(line).toMatch(/ {2}dsar {2}system=\S+ team=\S+ due /);
    const task = line?.split(' ')[2] ?? '';
    const done = await runLethe(['ticket', 'done', 'cli-dsar-1', task, '--note', 'nothing in payments'], env);
    expect(done.code, done.stderr).toBe(0);
    const shown = await runLethe(['request', 'show', 'cli-dsar-1'], env);
    const request = JSON.parse(shown.stdout) as { tasks: { task: number; state: string; note?: string }[] };
    expect(request.tasks.find((t) => t.task === Number(task))).toMatchObject({
      state: 'done',
      note: 'nothing in payments',
    });
    const usage = await runLethe(['request', 'create', '--email', 'a@b.co'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--type is required');
  });
});
