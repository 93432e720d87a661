import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import {
  killAllServers,
  runLethe,
  startServer,
  type ServerProcess,
} from '../../../server/test/support/lethe-process.js';
import { copyMigratedSqlite } from '../../../server/test/support/store-templates.js';
import { launchChromium, watchForErrors } from './browser.js';

/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * `lethe serve --demo`, signed in with tokens from the real `lethe token create`.
 *
 * Each test file calls `openDemoDashboard()`: its own server, data dir and browser, and a fresh
 * browser context per test. The hooks set `server`, `context`, `page` and `errors`, which the
 * tests read as live bindings of this module.
 */
export const dataDir = mkdtempSync(join(tmpdir(), 'lethe-dashboard-e2e-'));
export let server: ServerProcess;
let browser: Browser;

/** A token (or with `--link`, a one-time sign-in link) made by the CLI against the server's data dir. */
export async function mint(role: string, ...more: string[]): Promise<string> {
  const args = ['token', 'create', '--role', role, '--data-dir', dataDir, ...more];
  if (role === 'service') args.push('--system', 'checkout');
  const result = await runLethe(args);
  if (result.code !== 0) throw new Error(`lethe ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

export let context: BrowserContext;
export let page: Page;
export let errors: string[];

/**
 * Starts the demo server (with `env`: settings of the test file) and Chromium for the calling
 * test file, and opens a page per test.
 */
export function openDemoDashboard(options: { env?: Record<string, string> } = {}): void {
  beforeAll(async () => {
    // A migrated, empty store (the test template): serve loads the demo into it without migrating.
    await copyMigratedSqlite(dataDir);
    // Up to 80 s for the demo to load: the shared machine is slow under load.
    server = await startServer({
      dataDir,
      demo: true,
      timeoutMs: 80_000,
      ...(options.env ? { env: options.env } : {}),
    });
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await killAllServers();
    rmSync(dataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    // A laptop-sized window; the tablet test sets its own.
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    errors = watchForErrors(page);
  });
  afterEach(async () => {
    await context.close();
  });
}

/** Opens the dashboard and signs in by pasting `token`, as a user would. */
export async function signInWithPastedToken(token: string): Promise<void> {
  await page.goto(`${server.url}/`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
}
