import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { api, killAllServers, runLethe, startServer } from './support/lethe-process.js';

/**
 * The settings as an operator meets them through the `lethe` CLI: `lethe serve --config`, errors
 * that stop the start, and the first token minted from another directory (docs/configuration.md).
 */
const scratch = mkdtempSync(join(tmpdir(), 'lethe-configuration-'));
afterEach(() => killAllServers());
/** A CLI start on a loaded shared machine can take a minute; no test here measures time. */
const SLOW = 180_000;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A port nobody listens on right now (the server is told it in its file, not given 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error()),
      );
    });
  });
}

/** A directory to run commands from that holds nothing Lethe knows: a user's home, say. */
function elsewhere(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  return dir;
}

function logMessages(output: string): string[] {
  return output.split('\n').flatMap((line) => {
    try {
      const { msg } = JSON.parse(line) as { msg?: unknown };
      return typeof msg === 'string' ? [msg] : [];
    } catch {
      return [];
    }
  });
}

describe('lethe serve --config', { timeout: 400_000 }, () => {
  it('listens on the port and address the file names', async () => {
    const port = await freePort();
    const file = join(scratch, 'serve.yaml');
    writeFileSync(file, `# a deployment's settings\nport: ${port}\nhost: 127.0.0.1\nrate_limit: 3000/min\n`);
    const server = await startServer({ dataDir: join(scratch, 'serve-data'), config: file, timeoutMs: SLOW });
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    expect(logMessages(server.output())).toContain(`settings read from ${file}`);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it.each([
    [
      'a value of the wrong type',
      'port: http\n',
      (file: string) => `port in ${file} must be an integer from 0 to 65535; got "http"`,
    ],
    [
      'an unknown key',
      'prot: 7420\n',
      (file: string) => `${file}: unknown setting "prot"; did you mean "port"?`,
    ],
    [
      'a value a feature refuses',
      'key_rotation: 10s\n',
      () => 'LETHE_KEY_ROTATION must be a duration of at least 1m',
    ],
  ])('stops before it opens a store, on %s', async (_case, text, message) => {
    const file = join(scratch, `bad-${text.slice(0, 4)}.yaml`);
    writeFileSync(file, text);
    const dataDir = join(scratch, `never-${text.slice(0, 4)}`);
    const result = await runLethe(['serve', '--config', file, '--data-dir', dataDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`lethe serve: ${message(file)}`);
    expect(result.stdout).toBe('');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('stops on a file that is not there, naming it', async () => {
    const cwd = elsewhere('no-file');
    const result = await runLethe(['serve', '--config', 'lethe.yml'], {}, SLOW, cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `lethe serve: cannot read the configuration file ${join(cwd, 'lethe.yml')} (ENOENT); check --config or LETHE_CONFIG`,
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('takes a flag over the environment over the file', async () => {
    const [fromFlag, fromEnv, fromFile] = [await freePort(), await freePort(), await freePort()];
    const file = join(scratch, 'precedence.yaml');
    writeFileSync(file, `port: ${fromFile}\nhost: 127.0.0.1\n`);
    const dataDir = join(scratch, 'precedence-data');
    // startServer passes --port 0 without a config file: the flag beats both, any free port.
    const flagged = await startServer({
      dataDir,
      env: { LETHE_CONFIG: file, PORT: String(fromEnv) },
      port: fromFlag,
      timeoutMs: SLOW,
    });
    expect(flagged.url).toBe(`http://127.0.0.1:${fromFlag}`);
    await flagged.stop();
    const environment = await startServer({
      dataDir,
      config: file,
      env: { PORT: String(fromEnv) },
      timeoutMs: SLOW,
    });
    expect(environment.url).toBe(`http://127.0.0.1:${fromEnv}`);
  });
});

describe('the first token', { timeout: 400_000 }, () => {
  it('is refused, and nothing created, from a directory with no data directory', async () => {
    const cwd = elsewhere('home');
    const result = await runLethe(['token', 'create', '--role', 'admin', '--ttl', '1h'], {}, SLOW, cwd);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `no Lethe data directory at ${join(cwd, 'lethe-data')}; pass --data-dir or set LETHE_DATA_DIR (the server logs its own)`,
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('is minted from anywhere by the command the server logs, and the server accepts it', async () => {
    const dataDir = join(scratch, 'served');
    const server = await startServer({ dataDir, timeoutMs: SLOW });
    const hint = logMessages(server.output()).find((message) => message.startsWith('mint a token with: '));
    expect(hint).toBe(
      `mint a token with: LETHE_DATA_DIR=${dataDir} npx lethe token create --role admin --ttl 1h`,
    );
    // Run as the log says, from another directory: LETHE_DATA_DIR is what finds the store.
    const cwd = elsewhere('other');
    const minted = await runLethe(
      ['token', 'create', '--role', 'admin', '--ttl', '1h'],
      { LETHE_DATA_DIR: dataDir },
      SLOW,
      cwd,
    );
    expect(minted.code, minted.stderr).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
    const answer = await api(server.url, minted.stdout.trim(), 'GET', '/v1/policies');
    expect(answer.status).toBe(200);
  });
});
