import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../../server/test/support/lethe-process.js';

/** Debian's Chromium (`apt-get install -y chromium`); `LETHE_CHROMIUM` points elsewhere. */
export const CHROMIUM = process.env['LETHE_CHROMIUM'] ?? '/usr/bin/chromium';

/** What the tests leave for CI to keep (gitignored). */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
/** Screenshots of every page the tests visit. */
export const SCREENSHOTS = join(ARTIFACTS, 'dashboard');

/**
 * Starts Chromium headless. A missing browser fails the test with what to install, in CI and
 * on a laptop alike: the dashboard is only tested when a real browser has run it.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. The dashboard's end-to-end tests drive a real browser: ` +
        'install it with `apt-get install -y chromium` (.ci/run does so in CI), or set LETHE_CHROMIUM ' +
        'to a Chromium or Chrome binary.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
}

/** Saves a full-page screenshot as `<folder>/<name>.png` (by default `test-artifacts/dashboard/`). */
export async function screenshot(page: Page, name: string, folder = SCREENSHOTS): Promise<void> {
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: join(folder, `${name}.png`), fullPage: true });
}

/**
 * Collects what the page complains about: uncaught errors and console errors, which include
 * Content-Security-Policy violations. A test ends by expecting this list to be empty.
 */
export function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // An API refusal (4xx, which the page shows and the tests check) is logged by the browser as a
    // failed load; a 5xx is not expected and stays an error.
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
    errors.push(`console: ${text}`);
  });
  return errors;
}

/**
 * Evaluates a JavaScript expression in the page. Written as a string because the tests are
 * type-checked against Node's globals, not the DOM's.
 */
export function inPage<T = unknown>(page: Page, expression: string): Promise<T> {
  return page.evaluate<T>(expression);
}
