import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unusedPort } from './ports.js';

/**
 * A real Prometheus server for discovery tests: its own config, data dir and port, so a system
 * Prometheus (the Debian package may start one on :9090) does not matter. Prometheus is required
 * in CI (CI=true); elsewhere a missing binary skips the tests that need it, with a message.
 */

export const PROMETHEUS_BINARY = process.env['LETHE_TEST_PROMETHEUS'] ?? '/usr/bin/prometheus';

/**
 * Undefined when Prometheus can be started here; otherwise why the tests are skipped. In CI a
 * missing binary throws, so the suite fails instead of silently skipping.
 */
export function prometheusAvailability(): string | undefined {
  if (existsSync(PROMETHEUS_BINARY)) return undefined;
  if (process.env['CI'] === 'true') {
    throw new Error(
      `Prometheus is required in CI but ${PROMETHEUS_BINARY} does not exist (.ci/run installs it).`,
    );
  }
  const reason =
    `Prometheus not found at ${PROMETHEUS_BINARY}: the Prometheus discovery tests are SKIPPED. ` +
    'Install it (apt-get install prometheus) or set LETHE_TEST_PROMETHEUS.';
  console.warn(`\n[lethe tests] ${reason}\n`);
  return reason;
}

export interface PrometheusOptions {
  /** How often targets are scraped; also the scrape timeout. Default 1s. */
  readonly scrapeInterval?: '1s';
}

export interface RunningPrometheus {
  /** `http://127.0.0.1:<port>`, the base URL of the HTTP API. */
  readonly url: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const START_ATTEMPTS = 3;

/** Starts Prometheus scraping `targets` (`host:port`, path `/metrics`) and waits until it is ready. */
export async function startPrometheus(
  targets: readonly string[],
  options: PrometheusOptions = {},
): Promise<RunningPrometheus> {
  const interval = options.scrapeInterval ?? '1s';
  const dir = mkdtempSync(join(tmpdir(), 'lethe-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  // JSON is YAML; no quoting surprises.
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [{ job_name: 'lethe-test', static_configs: [{ targets: [...targets] }] }],
  };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  let lastError: unknown;
  // The free port is found before Prometheus binds it; another process may take it meanwhile.
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await launch(dir, configFile, await unusedPort());
    } catch (error) {
      lastError = error;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

async function launch(dir: string, configFile: string, port: number): Promise<RunningPrometheus> {
  const url = `http://127.0.0.1:${port}`;
  const storage = join(dir, `data-${port}`);
  const child = spawn(
    PROMETHEUS_BINARY,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${storage}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not be started: ${error.message}`));
    child.once('exit', (code, signal) => resolve(`exited (code ${code}, signal ${signal})`));
  });
  const stop = async () => {
    await terminate(child, exited);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exit: string | undefined;
  void exited.then((reason) => (exit = reason));
  while (exit === undefined && Date.now() < deadline) {
    if (await isReady(url)) return { url, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await terminate(child, exited);
  rmSync(storage, { recursive: true, force: true });
  throw new Error(
    `Prometheus on ${url} ${exit ?? `was not ready within ${READY_TIMEOUT_MS} ms`}; its log ends:\n${stderr}`,
  );
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function terminate(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
}
