import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { send } from './http-client.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What a process (or a group of them) used over some interval. */
export interface ProcessUsage {
  /** User + system CPU time, seconds. */
  readonly cpuSeconds: number;
  /** Bytes caused to be written to the block device (/proc/<pid>/io `write_bytes`). */
  readonly writtenBytes: number;
}

export interface ProcessStats extends ProcessUsage {
  /** Resident set size now, KiB. */
  readonly rssKiB: number;
  /** Peak resident set size since the process started (VmHWM), KiB. */
  readonly peakRssKiB: number;
}

export interface ServerSpec {
  readonly name: string;
  /** Arguments to `node`. */
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly port: number;
  /** stdout and stderr go here rather than through a pipe the benchmark would have to drain. */
  readonly logFile: string;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
/** Linux reports CPU times in clock ticks of 1/100 s on every architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * A server under test in its own process, so that it and the load generator each have a core
 * and neither's garbage collection pauses the other.
 */
export class ServerProcess {
  private exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Starts `node …args` and waits until GET /healthz answers. */
  static async start(spec: ServerSpec): Promise<ServerProcess> {
    const log = openSync(spec.logFile, 'a');
    const child = spawn(process.execPath, [...spec.args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const server = new ServerProcess(spec.name, `http://127.0.0.1:${spec.port}`, child);
    try {
      await server.waitUntilReady(spec.logFile);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Memory and CPU of the child from /proc (Linux only, like the rest of the benchmark's figures). */
  stats(): ProcessStats {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return {
      rssKiB: kib('VmRSS'),
      peakRssKiB: kib('VmHWM'),
      cpuSeconds: cpuSecondsOf(this.pid),
      writtenBytes: writtenBytesOf(this.pid),
    };
  }

  /** SIGTERM (Lethe closes its store cleanly), then SIGKILL if it takes too long. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private async waitUntilReady(logFile: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let crashed = false;
    void this.exited.then(() => (crashed = true));
    while (Date.now() < deadline) {
      if (crashed) break;
      try {
        if ((await send({ method: 'GET', url: `${this.url}/healthz`, timeoutMs: 1_000 })).status === 200)
          return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const tail = readFileSync(logFile, 'utf8').slice(-2_000);
    throw new Error(
      `${this.name} did not become ready (${crashed ? 'it exited' : 'timeout'}); log:\n${tail}`,
    );
  }
}

/** User + system CPU seconds of a process, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces; the numeric fields start after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Bytes written to storage by a process (`write_bytes` of /proc/<pid>/io), which counts what
 * reached the block layer, WAL and checkpoints included. Reading another user's file needs root;
 * NaN when it cannot be read.
 */
export function writtenBytesOf(pid: number): number {
  try {
    return Number(/^write_bytes: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return Number.NaN;
  }
}

/** A port that was free a moment ago: the servers under test are told which port to use. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Runs a TypeScript file of bench/ in its own node, through tsx's loader. */
export function tsxArgs(file: string, args: readonly string[] = []): string[] {
  return ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...args];
}
