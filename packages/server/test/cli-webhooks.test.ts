import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Webhook } from '@lethe/api';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  killAllServers,
  runLethe,
  startDemoServerAsAdmin,
  type ServerProcess,
} from './support/lethe-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'lethe-cli-webhooks-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SECRET = /whsec_[A-Za-z0-9+/=]{20,}/;
const readSecrets = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
const modeOf = (path: string) => statSync(path).mode & 0o777;

/**
 * `lethe webhooks update|rotate-secret` and where signing secrets go (docs/webhooks.md,
 * "Secrets on the command line"): `lethe apply` keeps them off stdout unless asked, and
 * `--secrets-file` writes them to a file only its owner reads, against a real server.
 */
describe.concurrent('lethe webhooks and secrets', { timeout: 180_000 }, () => {
  let server: ServerProcess;
  let env: { LETHE_URL: string; LETHE_TOKEN: string };

  beforeAll(async () => {
    ({ server, env } = await startDemoServerAsAdmin(join(scratch, 'data')));
  });
  afterAll(async () => {
    await server?.stop();
    await killAllServers();
  });

  it('create --secrets-file; update changes what is given', async ({ expect }) => {
    const file = join(scratch, 'create-secrets.json');
    const created = await runLethe(
      [
        ...['webhooks', 'create', 'cli-upd', '--url', 'http://localhost:9/hook', '--event', 'request.failed'],
        ...['--secrets-file', file],
      ],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout + created.stderr).not.toMatch(SECRET);
    expect(created.stdout).toContain(`secret written to ${file}`);
    expect(modeOf(file)).toBe(0o600);
    const first = readSecrets(file)['cli-upd'];
    expect(first).toMatch(SECRET);

    const changed = await runLethe(
      [
        ...['webhooks', 'update', 'cli-upd', '--event', 'request.completed', '--event', 'request.overdue'],
        ...['--system', 'orders', '--due-soon-days', '3', '--json'],
      ],
      env,
    );
    expect(changed.code, changed.stderr).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({
      name: 'cli-upd',
      url: 'http://localhost:9/hook',
      events: ['request.completed', 'request.overdue'],
      systems: ['orders'],
      dueSoonDays: 3,
    });
    const widened = await runLethe(['webhooks', 'update', 'cli-upd', '--all-systems'], env);
    expect(widened.code, widened.stderr).toBe(0);
    expect(widened.stdout).toMatch(/^webhook cli-upd changed\t.*\t\*\t3$/m);
    const nothing = await runLethe(['webhooks', 'update', 'cli-upd'], env);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('nothing to change');
    const unknown = await runLethe(['webhooks', 'update', 'nope', '--url', 'http://localhost:9/x'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('WEBHOOK_NOT_FOUND');
    const badDays = await runLethe(['webhooks', 'update', 'cli-upd', '--due-soon-days', '0'], env);
    expect(badDays.code).toBe(1);
    expect(badDays.stderr).toContain('VALIDATION_FAILED');
  });

  it('rotate-secret prints the new secret once, or writes it to --secrets-file', async ({ expect }) => {
    const file = join(scratch, 'rotate-secrets.json');
    const created = await runLethe(
      [
        ...['webhooks', 'create', 'cli-rot', '--url', 'http://localhost:9/hook', '--event', 'request.failed'],
        ...['--secrets-file', file],
      ],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const first = readSecrets(file)['cli-rot'];
    const rotated = await runLethe(['webhooks', 'rotate-secret', 'cli-rot'], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const second = SECRET.exec(rotated.stdout)?.[0];
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    const toFile = await runLethe(
      ['webhooks', 'rotate-secret', 'cli-rot', '--secrets-file', file, '--json'],
      env,
    );
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(toFile.stdout).not.toMatch(SECRET);
    expect((JSON.parse(toFile.stdout) as Webhook).secret).toBeUndefined();
    const third = readSecrets(file)['cli-rot'];
    expect(third).toMatch(SECRET);
    expect([first, second]).not.toContain(third);
    const missing = await runLethe(['webhooks', 'rotate-secret', 'nope'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('WEBHOOK_NOT_FOUND');
  });

  it('apply keeps created secrets off stdout unless asked; --secrets-file writes them', async ({
    expect,
  }) => {
    const manifest = (name: string) => {
      const path = join(scratch, `${name}.yaml`);
      writeFileSync(
        path,
        `webhooks:\n  - name: ${name}\n    url: http://localhost:9/hook\n    events: [request.failed]\n`,
      );
      return path;
    };
    const quiet = await runLethe(['apply', '-f', manifest('apply-quiet')], env);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout + quiet.stderr).not.toMatch(SECRET);
    expect(quiet.stdout).toContain('secret: not shown');
    expect(quiet.stdout).toContain('lethe webhooks rotate-secret apply-quiet');

    const file = join(scratch, 'apply-secrets.json');
    writeFileSync(file, JSON.stringify({ earlier: 'whsec_kept' }));
    const filed = await runLethe(['apply', '-f', manifest('apply-filed'), '--secrets-file', file], env);
    expect(filed.code, filed.stderr).toBe(0);
    expect(filed.stdout).not.toMatch(SECRET);
    expect(filed.stdout).toContain(`secret: written to ${file}`);
    const secrets = readSecrets(file);
    expect(secrets['earlier']).toBe('whsec_kept');
    expect(secrets['apply-filed']).toMatch(SECRET);
    expect(modeOf(file)).toBe(0o600);

    const shown = await runLethe(['apply', '-f', manifest('apply-shown'), '--show-secrets'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`secret: ${SECRET.source}`));

    // A secrets file that could not be written stops the run before anything is created.
    const broken = join(scratch, 'broken.json');
    writeFileSync(broken, 'not json');
    const refused = await runLethe(['apply', '-f', manifest('apply-refused'), '--secrets-file', broken], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('holds something other than a JSON object');
    const listed = await runLethe(['webhooks', 'list', '--json'], env);
    const names = (JSON.parse(listed.stdout) as { items: Webhook[] }).items.map((hook) => hook.name);
    expect(names).not.toContain('apply-refused');
    expect(names).toContain('apply-filed');
  });
});
