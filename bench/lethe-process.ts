import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PolicyInput } from '@lethe/api';
import { POLICIES, SYSTEMS } from './catalog.js';
import { sendJson } from './http-client.js';
import { freePort, REPO_ROOT, ServerProcess } from './server-process.js';

/** BENCH_LETHE_CLI points at another build's `cli/main.js`, to measure a change before it lands. */
const OTHER_BUILD = process.env['BENCH_LETHE_CLI'];
const CLI = OTHER_BUILD ?? join(REPO_ROOT, 'packages/server/dist/cli/main.js');
/** BENCH_CPU_PROF=<dir>: each Lethe server writes a V8 CPU profile there when it stops (`--cpu-prof`). */
const CPU_PROFILE_DIR = process.env['BENCH_CPU_PROF'];

/** Which build the figures are for, stated in the report. */
export const LETHE_BUILD = OTHER_BUILD
  ? `\`${OTHER_BUILD}\` (BENCH_LETHE_CLI), not this repository's build`
  : `\`packages/server/dist\` of this repository at ${sourceRevision()}`;

/** The commit the sources are at, and whether packages/ differs from it. */
function sourceRevision(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'packages') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with local changes in packages/' : ''}`;
  } catch {
    return 'an unknown commit';
  }
}

export interface LetheLocation {
  readonly dataDir: string;
  /** `postgres://…` runs Lethe on PostgreSQL; otherwise SQLite in `dataDir`. */
  readonly databaseUrl?: string;
}

export interface LetheServer {
  readonly server: ServerProcess;
  readonly token: string;
}

/**
 * `lethe serve` from the built dist, exactly as an operator starts it (default log level, so
 * request logging is part of the cost), plus an admin token minted by `lethe token create`.
 */
export async function startLethe(
  location: LetheLocation,
  extraEnv: Record<string, string> = {},
  cli: string = CLI,
): Promise<LetheServer> {
  const env: Record<string, string> = {
    ...extraEnv,
    ...(location.databaseUrl ? { DATABASE_URL: location.databaseUrl } : {}),
  };
  const port = await freePort();
  const server = await ServerProcess.start({
    name: location.databaseUrl ? 'Lethe (PostgreSQL)' : 'Lethe (SQLite)',
    args: [
      ...(CPU_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROFILE_DIR] : []),
      cli,
      'serve',
      '--port',
      String(port),
      '--data-dir',
      location.dataDir,
    ],
    env,
    port,
    logFile: join(location.dataDir, 'lethe.log'),
  });
  // After `serve`: it creates the store, and `lethe token` opens only a store that exists.
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, 'token', 'create', '--role', 'admin', '--ttl', '12h', '--data-dir', location.dataDir],
      { cwd: REPO_ROOT, env: { ...process.env, ...env } },
    );
    return { server, token: stdout.trim() };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** Declares the benchmark company's policies (or variants of them) and systems through the API. */
export async function applyCatalog(
  { server, token }: LetheServer,
  policies: Readonly<Record<string, PolicyInput>> = POLICIES,
): Promise<void> {
  for (const [name, policy] of Object.entries(policies)) {
    await sendJson('PUT', `${server.url}/v1/policies/${name}`, token, policy);
  }
  for (const [name, system] of Object.entries(SYSTEMS)) {
    await sendJson('PUT', `${server.url}/v1/systems/${name}`, token, system);
  }
}
