import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs the real, built `lethe` CLI as a child process, the way a user runs it: `lethe serve` for
 * end-to-end tests, and the one-shot commands for CLI tests. The vitest global setup
 * (`test/support/build.ts`) brings `dist/` up to date before any test runs; a start from `dist/`
 * costs a tenth of a start through a TypeScript loader.
 */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Variables the CLI reads; the child gets only those a test passes, never the developer's own. */
const LETHE_VARIABLES = ['DATABASE_URL', 'PORT', 'LOG_LEVEL'];

export type Env = Record<string, string | undefined>;

function childEnv(env: Env): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = { ...process.env };
  // Settings a developer may have exported (LETHE_OIDC_*, LETHE_RATE_LIMIT, …) must not leak in.
  for (const name of Object.keys(result)) if (name.startsWith('LETHE_')) delete result[name];
  for (const name of LETHE_VARIABLES) delete result[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result;
}

function spawnLethe(args: readonly string[], env: Env, cwd = REPO_ROOT): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], {
    cwd,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a one-shot command (`token create`, `apply`, `expiries`, …) to its end, from `cwd` (default the checkout). */
export function runLethe(
  args: readonly string[],
  env: Env = {},
  timeoutMs = 45_000,
  cwd = REPO_ROOT,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnLethe(args, env, cwd);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lethe ${args.join(' ')} ran longer than ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServeOptions {
  readonly dataDir: string;
  /** PostgreSQL instead of SQLite, passed as DATABASE_URL like a deployment would. */
  readonly databaseUrl?: string | undefined;
  readonly demo?: boolean;
  readonly timeoutMs?: number;
  /** Default 0 (any free port); a restart on the same port keeps URLs others were given valid. */
  readonly port?: number;
  /** More environment for the server (LETHE_* settings, connectors' connection strings). */
  readonly env?: Env;
  /**
   * A lethe.yaml: the server is started with `--config` and `--data-dir` only, so that its port
   * and address come from the file (docs/configuration.md).
   */
  readonly config?: string;
}

export interface ServerProcess {
  /** `http://127.0.0.1:PORT`, from the server's own "Lethe is serving on …" log line. */
  readonly url: string;
  readonly pid: number;
  /** Resolves once the process is gone. */
  readonly exited: Promise<void>;
  /** The last lines the server logged, for failure messages. */
  output(): string;
  /** SIGKILL, no goodbye: what a crash or the OOM killer does. Waits until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful close), SIGKILL if it has not exited after 5 s. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Starts `lethe serve` (on any free port unless told) and resolves when it logs the address it listens on. */
export function startServer(options: ServeOptions): Promise<ServerProcess> {
  const port = String(options.port ?? 0);
  const args = options.config
    ? ['serve', '--config', options.config, '--data-dir', options.dataDir]
    : ['serve', '--port', port, '--host', '127.0.0.1', '--data-dir', options.dataDir];
  if (options.demo) args.push('--demo');
  const child = spawnLethe(args, { ...options.env, DATABASE_URL: options.databaseUrl, LOG_LEVEL: 'info' });
  running.add(child);
  const pid = child.pid;
  let tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > 40) tail = tail.slice(-40);
  };
  const exited = new Promise<void>((resolve) => {
    child.on('exit', () => {
      running.delete(child);
      resolve();
    });
  });
  // Whatever happens, keep draining both pipes: a full pipe would block the server.
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => chunk.split('\n').forEach(remember));
  const stdout = child.stdout!.setEncoding('utf8');
  let pending = '';

  return new Promise<ServerProcess>((resolve, reject) => {
    const fail = (message: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${message}; lethe serve said:\n${tail.join('\n')}`));
    };
    const timer = setTimeout(
      () => fail(`lethe serve did not come up within ${options.timeoutMs ?? 45_000} ms`),
      options.timeoutMs ?? 45_000,
    );
    child.on('error', (error) => fail(String(error)));
    let ready = false;
    void exited.then(() => {
      if (!ready) fail(`lethe serve exited early (code ${child.exitCode}, signal ${child.signalCode})`);
    });
    stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        remember(line);
        if (ready) continue;
        const match = /Lethe is serving on (http:\/\/[^\s]+)/.exec(messageOf(line));
        if (!match?.[1] || pid === undefined) continue;
        ready = true;
        clearTimeout(timer);
        resolve({
          url: match[1],
          pid,
          exited,
          output: () => tail.join('\n'),
          async kill() {
            if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
            await exited;
          },
          async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.kill('SIGTERM');
            const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
            await exited;
            clearTimeout(forced);
          },
        });
      }
    });
  });
}

/** The `msg` of a pino JSON line; the raw line if it is not one. */
function messageOf(line: string): string {
  try {
    const parsed = JSON.parse(line) as { msg?: unknown };
    return typeof parsed.msg === 'string' ? parsed.msg : line;
  } catch {
    return line;
  }
}

/** Kills every server this worker started and has not stopped: for afterAll/afterEach. */
export async function killAllServers(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  running.clear();
}

// A worker that dies without its hooks must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A small fetch wrapper for tests that speak HTTP directly. */
export async function api(
  url: string,
  token: string,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

/** A demo server and an admin token minted by the real `lethe token create` for its data dir. */
export async function startDemoServerAsAdmin(
  dataDir: string,
): Promise<{ server: ServerProcess; env: { LETHE_URL: string; LETHE_TOKEN: string } }> {
  const server = await startServer({ dataDir, demo: true });
  const minted = await runLethe(['token', 'create', '--role', 'admin', '--data-dir', dataDir]);
  if (minted.code !== 0) throw new Error(`token create failed: ${minted.stderr}`);
  return { server, env: { LETHE_URL: server.url, LETHE_TOKEN: minted.stdout.trim() } };
}
