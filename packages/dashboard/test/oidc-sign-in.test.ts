import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { killAllServers, startServer, type ServerProcess } from '../../server/test/support/lethe-process.js';
import {
  DASHBOARD_CLIENT,
  ROLE_SETTINGS,
  startTestProvider,
  type TestProvider,
} from '../../server/test/support/oidc-provider.js';
import { inPage, launchChromium, screenshot } from './support/browser.js';

/**
 * Signing in to the dashboard through the company's identity provider, in Chromium: a real
 * `lethe serve` configured by its LETHE_OIDC_* variables, and a real OpenID Provider
 * (`oidc-provider`) on loopback with its own login and consent pages.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'lethe-dashboard-oidc-'));
let idp: TestProvider;
let server: ServerProcess;
let browser: Browser;
let page: Page;
/** Errors on Lethe's own pages (the provider's development pages load web fonts they cannot reach). */
let errors: string[];

/** A free loopback port: the redirect URI must be registered at the provider before Lethe starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  idp = await startTestProvider({
    redirectUri: `${origin}/sign-in/callback`,
    postLogoutRedirectUri: `${origin}/`,
  });
  server = await startServer({
    dataDir,
    port,
    env: {
      LETHE_OIDC_ISSUER: idp.issuer,
      LETHE_OIDC_CLIENT_ID: DASHBOARD_CLIENT.id,
      LETHE_OIDC_CLIENT_SECRET: DASHBOARD_CLIENT.secret,
      LETHE_OIDC_REDIRECT_URI: `${origin}/sign-in/callback`,
      LETHE_OIDC_SCOPES: 'openid lethe',
      LETHE_OIDC_PROVIDER_NAME: 'Acme SSO',
      LETHE_OIDC_ROLE_CLAIM: ROLE_SETTINGS.roleClaim,
      LETHE_OIDC_ROLE_MAP: Object.entries(ROLE_SETTINGS.roleMap)
        .map(([group, role]) => `${group}=${role}`)
        .join(','),
    },
  });
  expect(server.url).toBe(origin);
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await killAllServers();
  await idp?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  errors = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error' || !message.location().url.startsWith(server.url)) return;
    if (/status of 4\d\d/.test(message.text())) return;
    errors.push(`console: ${message.text()}`);
  });
});
afterEach(async () => {
  await page.context().close();
});

/** On the provider's pages: its login form (any password) and its consent form. */
async function logInAtProvider(login: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(idp.issuer));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('correct horse');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

describe('sign-in through the identity provider, in Chromium', { timeout: 90_000 }, () => {
  it('signs in with the provider, shows the mapped role, and signs out of Lethe and then of the provider', async () => {
    await page.goto(`${server.url}/`);
    const button = page.getByRole('button', { name: 'Sign in with Acme SSO' });
    await button.waitFor();
    await screenshot(page, 'oidc-01-sign-in');
    await button.click();
    await logInAtProvider('dana');

    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    // The code and state are out of the address bar and the history entry.
    expect(page.url()).toBe(`${server.url}/`);
    expect(await inPage(page, 'window.location.search')).toBe('');
    const who = page.locator('header .who');
    await who.getByText(`dana@${idp.issuer}`).waitFor();
    expect(await who.locator('.role').textContent()).toBe('dpo');
    expect(await who.textContent()).toContain('categories user.contact');
    await screenshot(page, 'oidc-02-signed-in');
    // The attempt was used up; the token is this tab's.
    expect(await inPage(page, "sessionStorage.getItem('lethe.oidc.attempt')")).toBeNull();
    expect(await inPage(page, "sessionStorage.getItem('lethe.token')")).toMatch(/^ey/);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Lethe' }).waitFor();
    expect(await inPage(page, "sessionStorage.getItem('lethe.token')")).toBeNull();
    const providerSignOut = page.getByRole('link', { name: 'sign out of Acme SSO too' });
    await providerSignOut.waitFor();
    await screenshot(page, 'oidc-03-signed-out');
    await providerSignOut.click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    // Back at Lethe, signed out of both: the next sign-in asks the provider's login again.
    await page.waitForURL(`${server.url}/`);
    await page.getByRole('button', { name: 'Sign in with Acme SSO' }).click();
    await page.locator('input[name="login"]').waitFor();
    expect(errors).toEqual([]);
  });

  it('refuses an account whose groups map to no role, saying so', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Sign in with Acme SSO' }).click();
    await logInAtProvider('mallory');
    const alert = page.getByRole('alert');
    await alert.getByText('no role in Lethe').waitFor();
    expect(await alert.textContent()).toContain('Ask your administrator');
    expect(await inPage(page, "sessionStorage.getItem('lethe.token')")).toBeNull();
    expect(page.url()).toBe(`${server.url}/`);
    await screenshot(page, 'oidc-04-no-role');
    expect(errors).toEqual([]);
  });

  it('does not sign in with a provider answer that reaches a tab which did not start the sign-in', async () => {
    // The answer for one tab's sign-in, opened in another tab (a planted link): no attempt there.
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Sign in with Acme SSO' }).click();
    await page.waitForURL((url) => url.href.startsWith(idp.issuer));
    await page.locator('input[name="login"]').fill('dana');
    await page.locator('input[name="password"]').fill('x');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).waitFor();
    const callback = new Promise<string>((resolve) =>
      page.on('request', (request) => {
        if (request.url().startsWith(`${server.url}/sign-in/callback`)) resolve(request.url());
      }),
    );
    await page.route(`${server.url}/sign-in/callback**`, (route) => route.abort());
    await page.getByRole('button', { name: 'Continue' }).click();
    const planted = await callback;
    const other = await page.context().browser()!.newContext();
    const otherPage = await other.newPage();
    await otherPage.goto(planted);
    await otherPage.getByRole('alert').getByText('not started in this tab').waitFor();
    expect(await otherPage.evaluate("sessionStorage.getItem('lethe.token')")).toBeNull();
    await other.close();
  });
});
