import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ConsentViolationPage,
  ContractHistory,
  DataContract,
  Overview,
  SubjectConsent,
  SubjectRetention,
} from '@lethe/api';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  api,
  killAllServers,
  runLethe,
  startServer,
  type ServerProcess,
} from '../../server/test/support/lethe-process.js';
import { tcString } from '../../server/test/support/tc-strings.js';
import { inPage, launchChromium, screenshot, watchForErrors } from './support/browser.js';

/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * `lethe serve --demo`, signed in with tokens from the real `lethe token create`.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'lethe-dashboard-e2e-'));
let server: ServerProcess;
let browser: Browser;

/** A token (or with `--link`, a one-time sign-in link) made by the CLI against the server's data dir. */
async function mint(role: string, ...more: string[]): Promise<string> {
  const args = ['token', 'create', '--role', role, '--data-dir', dataDir, ...more];
  if (role === 'service') args.push('--system', 'checkout');
  const result = await runLethe(args);
  if (result.code !== 0) throw new Error(`lethe ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

beforeAll(async () => {
  server = await startServer({ dataDir, demo: true });
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await killAllServers();
  rmSync(dataDir, { recursive: true, force: true });
});

let context: BrowserContext;
let page: Page;
let errors: string[];

beforeEach(async () => {
  // A laptop-sized window; the tablet test sets its own.
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  errors = watchForErrors(page);
});
afterEach(async () => {
  await context.close();
});

/** Opens the dashboard and signs in by pasting `token`, as a user would. */
async function signInWithPastedToken(token: string): Promise<void> {
  await page.goto(`${server.url}/`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
}

describe('the dashboard in Chromium', { timeout: 60_000 }, () => {
  it('signs in with a pasted token and shows the overview with the server’s own counts', async () => {
    const token = await mint('dpo', '--subject', 'dana');
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Lethe' }).waitFor();
    await screenshot(page, '01-sign-in');
    await signInWithPastedToken(token);
    expect(page.getByText('dana')).toBeDefined();
    const expected = (await api(server.url, token, 'GET', '/v1/overview')).body as Overview;
    expect(expected.counts.subjects).toBeGreaterThan(100);
    for (const [key, value] of Object.entries(expected.counts)) {
      const shown = await page.locator(`[data-count="${key}"]`).textContent();
      expect(shown?.replace(/\D/g, ''), key).toBe(String(value));
    }
    // 90 bars, one per day, and the busiest day in the caption.
    expect(await page.locator('.chart rect.bar').count()).toBe(90);
    const busiest = Math.max(...expected.expiriesPerDay.map((day) => day.fields));
    expect(busiest, 'the demo has fields expiring within 90 days').toBeGreaterThan(0);
    const caption = (await page.locator('.chart figcaption').textContent())?.replace(/\s+/g, ' ');
    expect(caption).toContain(`Busiest day: ${busiest}`);
    await screenshot(page, '02-overview');
    // A reload keeps the session (this tab's sessionStorage) and the page.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('signs in once with the one-time link `lethe token create --link` prints, keeping the code out of the URL, history and log', async () => {
    const link = await mint('dpo', '--link', '--url', server.url, '--subject', 'linda');
    expect(link).toMatch(new RegExp(`^${server.url}/sign-in#code=[A-Za-z0-9_-]{43}$`));
    const code = link.split('#code=')[1] ?? '';
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    expect(page.url()).toBe(`${server.url}/`);
    expect(await inPage(page, 'window.location.hash')).toBe('');
    await page.getByText('linda').waitFor();
    // Going back does not return to the link: its history entry was replaced.
    await page.goBack();
    expect(page.url()).not.toContain('code');
    // The fragment never reaches the server: the code is nowhere in its log.
    expect(server.output()).not.toContain(code);

    // The same link again, in another tab: used up. The page says so and offers the paste form.
    const again = await context.newPage();
    const againErrors = watchForErrors(again);
    await again.goto(link);
    await again.getByRole('alert').getByText('used already or has expired').waitFor();
    expect(again.url()).toBe(`${server.url}/`);
    expect(await again.getByLabel('Token').isVisible()).toBe(true);
    await screenshot(again, '02b-sign-in-link-used');
    expect(againErrors).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('no longer signs in with a link that carries a token, and takes the token out of the URL', async () => {
    const token = await mint('dpo');
    await page.goto(`${server.url}/sign-in#token=${token}`);
    await page.getByRole('alert').getByText('no longer accepted').waitFor();
    expect(page.url()).toBe(`${server.url}/`);
    expect(await page.getByLabel('Token').isVisible()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('refuses a pasted text that is not a token, and a token the server does not accept, saying why', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('Token').fill('hello');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('three parts').waitFor();
    // Well-formed claims, but not signed by this server.
    const forged = [
      Buffer.from('{"alg":"EdDSA","typ":"JWT"}').toString('base64url'),
      Buffer.from(JSON.stringify({ role: 'admin', sub: 'mallory', exp: 4_102_444_800 })).toString(
        'base64url',
      ),
      'c2lnbmF0dXJl',
    ].join('.');
    await page.getByLabel('Token').fill(forged);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText(/token/i).waitFor();
    expect(await page.getByRole('heading', { name: 'Sign in to Lethe' }).isVisible()).toBe(true);
    await screenshot(page, '03-sign-in-refused');
    expect(errors).toEqual([]);
  });

  it('returns to the sign-in page with the reason when the session’s token stops working (401)', async () => {
    await signInWithPastedToken(await mint('dpo'));
    // Swap the stored token for one the server refuses, then load a page: the answer is a 401.
    const forged = [
      Buffer.from('{"alg":"EdDSA","typ":"JWT","kid":"gone"}').toString('base64url'),
      Buffer.from(JSON.stringify({ role: 'dpo', sub: 'dana', exp: 4_102_444_800 })).toString('base64url'),
      'c2lnbmF0dXJl',
    ].join('.');
    await inPage(page, `sessionStorage.setItem('lethe.token', ${JSON.stringify(forged)})`);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Lethe' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/sign in again/i);
    expect(errors).toEqual([]);
  });

  it('offers a role only its pages, and tells it plainly when it opens another (403), never a blank page', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('Token').fill(await mint('service'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    // No overview for a service: it starts on the first page it can use.
    await page.getByRole('heading', { level: 1, name: 'Policies' }).waitFor();
    expect(page.url()).toBe(`${server.url}/policies`);
    const navigation = page.getByRole('navigation', { name: 'Pages' });
    expect(await navigation.getByRole('link').allTextContents()).toEqual([
      'Policies',
      'Data map',
      'Expiry calendar',
      'Contracts',
    ]);
    // A page it may not use, opened by its address: the refusal, with the way out still there.
    await page.goto(`${server.url}/subjects/u-1001`);
    const alert = page.getByRole('alert').first();
    await alert.waitFor();
    expect(await alert.textContent()).toContain('You may not see this');
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    await screenshot(page, '04-forbidden');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Lethe' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('fits a tablet screen and can be used with the keyboard alone', async () => {
    await page.setViewportSize({ width: 820, height: 1180 });
    await page.goto(`${server.url}/`);
    await page.getByLabel('Token').waitFor();
    await page.keyboard.press('Tab');
    expect(await inPage(page, 'document.activeElement?.id')).toBe('token');
    await page.keyboard.insertText(await mint('dpo'));
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    // The heading of the new page has focus; nothing spills out sideways.
    expect(await inPage(page, 'document.activeElement?.tagName')).toBe('H1');
    const overflow = () => inPage<number>(page, 'document.documentElement.scrollWidth - window.innerWidth');
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(page, '05-overview-tablet');
    // Every page of an admin's navigation fits the tablet too (wide tables scroll inside their box).
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInWithPastedToken(await mint('admin'));
    const navigation = page.getByRole('navigation', { name: 'Pages' });
    await navigation.getByRole('link', { name: 'Audit' }).waitFor();
    for (const name of await navigation.getByRole('link').allTextContents()) {
      await navigation.getByRole('link', { name }).click();
      await page.getByRole('heading', { level: 1 }).waitFor();
      await expect.poll(() => page.locator('.loading').count()).toBe(0);
      expect(await overflow(), name).toBeLessThanOrEqual(0);
      await screenshot(page, `05-tablet-${name.toLowerCase().replace(/\W+/g, '-')}`);
    }
    expect(errors).toEqual([]);
  });

  it('asks the server who the token is once per page load, for the navigation and every panel alike', async () => {
    await signInWithPastedToken(await mint('dpo'));
    const asked: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/v1/session') asked.push(request.url());
    });
    await page.reload();
    // The navigation and the violations panel both need the answer: both are drawn from one read.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Policies' }).waitFor();
    await page.getByTestId('violations').locator('tbody tr').first().waitFor();
    await page.waitForLoadState('networkidle');
    expect(asked).toHaveLength(1);
    // Moving between pages inside the app asks nothing more.
    await page.getByRole('link', { name: 'Policies' }).click();
    await page.getByRole('heading', { level: 1, name: 'Policies' }).waitFor();
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByTestId('violations').locator('tbody tr').first().waitFor();
    await page.waitForLoadState('networkidle');
    expect(asked).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});

describe('subject lookup', { timeout: 60_000 }, () => {
  it('answers "why do we hold this?" for the demo subject: the DESIGN.md §4 expiry and what decides it', async () => {
    await signInWithPastedToken(await mint('dpo'));
    await page.getByRole('link', { name: 'Subjects' }).click();
    await page.getByRole('heading', { level: 1, name: 'Subject lookup' }).waitFor();
    await page.getByLabel('Subject id').fill('u-1001');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Why do we hold u-1001?' }).waitFor();
    const expiry = page.getByTestId('subject-expiry');
    expect(await expiry.textContent()).toContain('Expired 2025-01-05');
    expect(await expiry.textContent()).toMatch(
      /Decided by accounts\.\w+ under policy user-account-access in system accounts/,
    );
    // Every field, with the order's shipping address expiring on its own (P120D) date.
    const address = page.getByRole('row').filter({ hasText: 'orders.shipping_address' });
    expect(await address.textContent()).toContain('2023-06-29');
    expect(await address.textContent()).toContain('order-delivery');
    expect(page.url()).toBe(`${server.url}/subjects/u-1001`);
    await screenshot(page, '06-subject');
    // The address is a page of its own: a reload (the server's page fallback) shows it again.
    await page.reload();
    await page.getByTestId('subject-expiry').waitFor();
    expect(errors).toEqual([]);
  });

  it('says so when the subject is unknown, and when an auditor lacks the subject-ids grant', async () => {
    await signInWithPastedToken(await mint('dpo'));
    await page.goto(`${server.url}/subjects/nobody-here`);
    expect(await page.getByRole('alert').textContent()).toContain('Not found');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInWithPastedToken(await mint('auditor'));
    await page.goto(`${server.url}/subjects/u-1001`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('You may not see this');
    expect(errors).toEqual([]);
  });

  it('shows the consent of a subject Lethe has no uses of, saying so, instead of "Not found"', async () => {
    const token = await mint('dpo');
    const subject = 'consent-only-1';
    const recorded = await api(server.url, token, 'PUT', `/v1/subjects/${subject}/consent`, {
      purposes: { 'marketing.email': true },
      source: 'signup-form',
    });
    expect(recorded.status).toBe(200);
    // The API's two answers: no subject view (no telemetry), but a recorded grant.
    expect((await api(server.url, token, 'GET', `/v1/subjects/${subject}`)).status).toBe(404);
    const consent = (await api(server.url, token, 'GET', `/v1/subjects/${subject}/consent`))
      .body as SubjectConsent;
    expect(consent.history).toHaveLength(1);

    await signInWithPastedToken(token);
    await page.goto(`${server.url}/subjects/${subject}`);
    await page.getByTestId('consent-states').waitFor();
    expect(await page.getByTestId('consent-states').textContent()).toContain(
      `marketing.email granted since ${consent.history[0]!.at.slice(0, 10)}`,
    );
    expect(await page.getByTestId('consent-history').locator('tbody tr').count()).toBe(1);
    expect(await page.getByTestId('no-uses').textContent()).toContain(
      `Lethe has no recorded uses of ${subject}`,
    );
    expect(await page.getByText('Not found').count()).toBe(0);
    await screenshot(page, '07-subject-consent-only');
    // Neither uses nor consent: the plain answer.
    await page.getByLabel('Subject id').fill('nobody-at-all');
    await page.keyboard.press('Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Not found');
    expect(await page.getByTestId('consent-states').count()).toBe(0);
    expect(await page.getByTestId('no-uses').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});

describe('policies', { timeout: 60_000 }, () => {
  it('creates a policy with validation, previews a retention change before saving it, and retires it', async () => {
    await signInWithPastedToken(await mint('dpo'));
    await page.getByRole('link', { name: 'Policies' }).click();
    await page.getByRole('heading', { level: 1, name: 'Policies' }).waitFor();
    await page.getByRole('link', { name: 'order-delivery' }).waitFor();
    await screenshot(page, '07-policies');

    await page.getByRole('button', { name: 'New policy' }).click();
    await page.getByRole('heading', { level: 1, name: 'New policy' }).waitFor();
    await page.getByLabel('Name').fill('support-tickets');
    await page.getByLabel('Purpose').fill('essential.account');
    await page.getByLabel('Retention').fill('two years');
    await page.getByLabel('Legal basis').selectOption('legitimate_interests');
    await page.getByRole('button', { name: 'Create policy' }).click();
    // The server's validation, shown beside the form; nothing was created.
    const refusal = page.getByRole('alert');
    expect(await refusal.textContent()).toContain('INVALID_DURATION');
    await screenshot(page, '08-policy-invalid');
    await page.getByLabel('Retention').fill('P18M');
    await page.getByRole('button', { name: 'Create policy' }).click();
    await page.getByRole('heading', { level: 1, name: 'Policy support-tickets' }).waitFor();
    expect(await page.getByTestId('policy-status').textContent()).toContain('Version 1, active');
    const token = await mint('dpo');
    const created = (await api(server.url, token, 'GET', '/v1/policies/support-tickets')).body;
    expect(created).toMatchObject({ retention: 'P18M', legalBasis: 'legitimate_interests', version: 1 });

    // A retention change must be previewed before it can be saved.
    await page.getByLabel('Retention').fill('P12M');
    const save = page.getByRole('button', { name: 'Save', exact: true });
    expect(await save.isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Preview the change' }).click();
    await page.getByTestId('retention-preview').waitFor();
    await save.click();
    await page.getByRole('status').getByText('Saved.').waitFor();
    await page.getByTestId('policy-status').getByText('Version 2, active').waitFor();
    const changed = (await api(server.url, token, 'GET', '/v1/policies/support-tickets')).body;
    expect(changed).toMatchObject({ retention: 'P12M', version: 2 });
    expect(await page.getByRole('row').filter({ hasText: 'P18M' }).count()).toBe(1);

    await page.getByRole('button', { name: 'Retire this policy…' }).click();
    await page.getByRole('button', { name: 'Retire support-tickets' }).click();
    await page
      .getByTestId('policy-status')
      .getByText(/retired since/)
      .waitFor();
    const retired = (await api(server.url, token, 'GET', '/v1/policies/support-tickets')).body;
    expect(retired).toMatchObject({ status: 'retired' });
    await screenshot(page, '09-policy-retired');
    expect(errors).toEqual([]);
  });

  it('previews what a shorter retention of a policy in use would move, as the API computes it', async () => {
    const token = await mint('dpo');
    await signInWithPastedToken(token);
    await page.goto(`${server.url}/policies/order-delivery`);
    await page.getByLabel('Retention').fill('P90D');
    await page.getByRole('button', { name: 'Preview the change' }).click();
    const shown = page.getByTestId('retention-preview');
    await shown.waitFor();
    const expected = (
      await api(server.url, token, 'POST', '/v1/policies/order-delivery/preview', { retention: 'P90D' })
    ).body as { subjectFieldsChanged: number; subjectFieldsEarlier: number };
    expect(expected.subjectFieldsChanged).toBeGreaterThan(0);
    const text = (await shown.textContent()) ?? '';
    expect(text).toContain(`Whose expiry moves${expected.subjectFieldsChanged.toLocaleString('en-US')}`);
    expect(text).toContain(`Earlier${expected.subjectFieldsEarlier.toLocaleString('en-US')}`);
    await screenshot(page, '10-policy-preview');
    // Not saved: the demo policy is unchanged.
    expect((await api(server.url, token, 'GET', '/v1/policies/order-delivery')).body).toMatchObject({
      retention: 'P120D',
    });
    expect(errors).toEqual([]);
  });

  it('refuses a name that exists already, and tells an auditor it may not create policies', async () => {
    await signInWithPastedToken(await mint('dpo'));
    await page.goto(`${server.url}/policies/+new`);
    await page.getByLabel('Name').fill('order-delivery');
    await page.getByLabel('Purpose').fill('essential.orders');
    await page.getByLabel('Retention').fill('P1D');
    await page.getByRole('button', { name: 'Create policy' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('exists already');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInWithPastedToken(await mint('auditor'));
    await page.goto(`${server.url}/policies/+new`);
    await page.getByLabel('Name').fill('auditor-policy');
    await page.getByLabel('Purpose').fill('essential.orders');
    await page.getByLabel('Retention').fill('P1D');
    await page.getByRole('button', { name: 'Create policy' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('You may not see this');
    expect(errors).toEqual([]);
  });
});

describe('rights requests', { timeout: 90_000 }, () => {
  /** A demo subject who ordered, so that a request reaches the payments team's ticket. */
  async function subjectWhoOrdered(token: string): Promise<string> {
    for (let index = 2000; index < 2100; index += 1) {
      const { status, body } = await api(server.url, token, 'GET', `/v1/subjects/u-${index}`);
      const fields = status === 200 ? (body as { fields: { system: string }[] }).fields : [];
      if (fields.some((field) => field.system === 'orders')) return `u-${index}`;
    }
    throw new Error('no demo subject with orders');
  }

  it('files a request, shows its tasks with their attempts, marks the payments ticket done and downloads the report', async () => {
    const token = await mint('dpo');
    const subject = await subjectWhoOrdered(token);
    await signInWithPastedToken(token);
    await page.getByRole('link', { name: 'Requests' }).click();
    await page.getByRole('heading', { level: 1, name: 'Requests' }).waitFor();
    await page.getByRole('button', { name: 'New request' }).click();
    await page.getByLabel('The person asks for').selectOption('delete');
    // Nothing to find the person by: refused before anything is sent.
    await page.getByRole('button', { name: 'File delete request' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('at least one identifier');
    await page.getByLabel('Subject id (as in the telemetry)').fill(subject);
    await page.getByRole('button', { name: 'File delete request' }).click();
    await page.getByRole('heading', { level: 1, name: /^Request / }).waitFor();
    const id = decodeURIComponent(page.url().split('/requests/')[1] ?? '');
    expect(id).not.toBe('');
    const summary = await page.getByTestId('request-summary').textContent();
    expect(summary).toMatch(/days left: \d+/);

    // The work starts at once: the ticket for the payments team waits for a person.
    const ticket = page.locator('li.task').filter({ hasText: 'payments-ticket' });
    await ticket.getByText('waiting').waitFor({ timeout: 30_000 });
    // The accounts team's HTTP client cannot be reached: its attempts are listed.
    const client = page.locator('li.task').filter({ hasText: 'accounts-privacy' });
    await client.getByText(/attempt/).waitFor({ timeout: 30_000 });
    await client.locator('summary').click();
    expect(await client.locator('tbody tr').count()).toBeGreaterThan(0);
    await screenshot(page, '11-request');

    await ticket.getByLabel('Note').fill('Deleted in the payments back office');
    await ticket.getByLabel('Records deleted').fill('2');
    await ticket.getByRole('button', { name: 'Mark ticket done' }).click();
    await ticket.getByText('done', { exact: true }).waitFor();
    expect(await ticket.textContent()).toContain('Deleted in the payments back office');
    const stored = (await api(server.url, token, 'GET', `/v1/requests/${id}`)).body as {
      tasks: { target: string; state: string; rowsChanged: number }[];
    };
    expect(stored.tasks.find((task) => task.target === 'payments-ticket')).toMatchObject({
      state: 'done',
      rowsChanged: 2,
    });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download report (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${id}-report.csv`);
    const path = await download.path();
    expect(readFileSync(path, 'utf8').split('\n')[0]).toContain('request_id');
    await screenshot(page, '12-request-ticket-done');

    // The list shows it with its days left.
    await page.getByRole('link', { name: 'All requests' }).click();
    const row = page.getByRole('row').filter({ hasText: id });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/\d+$/);
    await screenshot(page, '13-requests');
    expect(errors).toEqual([]);
  });

  it('offers a DSAR’s package once the request is completed, and downloads it', async () => {
    const token = await mint('dpo');
    await signInWithPastedToken(token);
    // Still running (the accounts team's client is unreachable): no package yet, and it says so.
    await page.goto(`${server.url}/requests/+new`);
    await page.getByLabel('Subject id (as in the telemetry)').fill('u-1001');
    await page.getByRole('button', { name: 'File dsar request' }).click();
    await page.getByText('can be downloaded once the request is completed').waitFor();
    // Without the unreachable client, the accounts team gets a ticket like the payments team:
    // once people mark every ticket done, the request is completed. (The last test to need it.)
    const admin = await mint('admin');
    expect((await api(server.url, admin, 'DELETE', '/v1/clients/accounts-privacy')).status).toBeLessThan(300);
    await page.goto(`${server.url}/requests/+new`);
    await page.getByLabel('Subject id (as in the telemetry)').fill('u-2050');
    await page.getByRole('button', { name: 'File dsar request' }).click();
    await page.getByRole('heading', { level: 1, name: /^Request / }).waitFor();
    const tickets = page.locator('form.ticket-form');
    await tickets.first().waitFor({ timeout: 30_000 });
    for (let open = await tickets.count(); open > 0; open -= 1) {
      await tickets.first().getByRole('button', { name: 'Mark ticket done' }).click();
      await expect.poll(() => tickets.count()).toBe(open - 1);
    }
    await page.getByTestId('request-status').getByText('completed').waitFor({ timeout: 30_000 });
    await screenshot(page, '14-request-dsar-completed');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /Download the person’s package/ }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/-package\.html$/);
    expect(readFileSync(await download.path(), 'utf8')).toMatch(/<html/i);
    expect(errors).toEqual([]);
  });
});

describe('data map', { timeout: 60_000 }, () => {
  /** A team's /metrics on loopback: what runs, as the seed's series describe it. */
  let metrics: Server;
  beforeAll(async () => {
    metrics = createServer((_request, response) => {
      response.setHeader('content-type', 'text/plain; version=0.0.4');
      // risk → mailer is declared nowhere: drift. accounts → mailer is declared and seen.
      response.end(
        [
          'transmit{team="trust",service="risk",to_service="mailer",data_type="user.device.ip_address"} 1',
          'transmit{team="identity",service="accounts",to_service="mailer",data_type="user.contact.email"} 1',
          '',
        ].join('\n'),
      );
    });
    await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => metrics.close(() => resolve())));

  it('draws teams, systems and flows, filters them, shows what a node and an edge carry, and highlights drift', async () => {
    const admin = await mint('admin');
    const target = `http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics`;
    const source = await api(server.url, admin, 'POST', '/v1/datamap/sources/scrape', {
      name: 'team-metrics',
      targets: [target],
    });
    expect(source.status).toBeLessThan(300);
    const run = await api(server.url, admin, 'POST', '/v1/datamap/sources/team-metrics/discover');
    expect(run.status).toBe(200);

    await signInWithPastedToken(await mint('dpo'));
    await page.getByRole('link', { name: 'Data map' }).click();
    await page.getByRole('heading', { level: 1, name: 'Data map' }).waitFor();
    const graph = page.locator('.graph canvas').first();
    await graph.waitFor();
    const elements = page.getByRole('navigation', { name: 'Map elements' });
    await elements.getByRole('button', { name: 'orders (system)' }).waitFor();
    expect(await elements.getByRole('button', { name: 'warehouse (system)' }).count()).toBe(1);
    await screenshot(page, '15-datamap');

    // A node: what the orders system stores, sends and receives.
    await elements.getByRole('button', { name: 'orders (system)' }).click();
    const details = page.getByTestId('details');
    expect(await details.textContent()).toMatch(
      /Sends.*payments \(user\.contact\.address, user\.financial\)/,
    );
    // An edge: the undeclared flow, highlighted as drift.
    await elements.getByRole('button', { name: 'risk → mailer' }).click();
    expect(await details.textContent()).toContain('drift: observed, never declared');
    expect(await details.textContent()).toContain('team-metrics');
    expect(await page.getByTestId('drift-list').textContent()).toContain('Undeclared flow risk → mailer');
    await screenshot(page, '16-datamap-drift');

    // Filtering by team keeps that team's systems and what they touch, and drops the rest.
    await page.getByLabel('Team').selectOption('growth');
    await elements.getByRole('button', { name: 'mailer (system)' }).waitFor();
    await expect.poll(() => elements.getByRole('button', { name: 'warehouse (system)' }).count()).toBe(0);
    const filtered = (await api(server.url, admin, 'GET', '/v1/datamap/graph?team=growth')).body as {
      nodes: { kind: string; label: string }[];
    };
    const shownSystems = await elements.getByRole('button', { name: /\(system\)/ }).allTextContents();
    expect(shownSystems.map((text) => text.replace(/ \(system\)$/, '')).sort()).toEqual(
      filtered.nodes
        .filter((node) => node.kind === 'system')
        .map((node) => node.label)
        .sort(),
    );
    await page.getByLabel('Data category').selectOption('user.contact.email');
    await page.getByLabel('Team').selectOption('');
    await elements.getByRole('button', { name: 'accounts (system)' }).waitFor();
    await screenshot(page, '17-datamap-filtered');
    expect(errors).toEqual([]);
  });
});

describe('expiry calendar', { timeout: 60_000 }, () => {
  it('shows what expires on a picked day, per system, and downloads it as CSV and NDJSON', async () => {
    const token = await mint('dpo');
    const overview = (await api(server.url, token, 'GET', '/v1/overview')).body as Overview;
    const busiest = [...overview.expiriesPerDay].sort((a, b) => b.fields - a.fields)[0]!;
    expect(busiest.fields).toBeGreaterThan(1);
    await signInWithPastedToken(token);
    await page.getByRole('link', { name: 'Expiry calendar' }).click();
    await page.getByRole('heading', { level: 1, name: 'Expiry calendar' }).waitFor();
    await page.getByText(/Pick a day/).click();
    await page.getByRole('button', { name: `${busiest.day}: ${busiest.fields} fields expire` }).click();
    const rows = page.getByTestId('expiries').locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(busiest.fields);
    await screenshot(page, '18-calendar');

    const feed = (await api(server.url, token, 'GET', `/v1/expiries?day=${busiest.day}`)).body as {
      items: { system: string }[];
    };
    const system = feed.items[0]!.system;
    const ofSystem = feed.items.filter((item) => item.system === system).length;
    await page.getByLabel('System').selectOption(system);
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await expect.poll(() => rows.count()).toBe(ofSystem);
    for (const cell of await rows.locator('td:nth-child(5)').allTextContents()) expect(cell).toBe(system);

    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csvLines = readFileSync(await csv.path(), 'utf8')
      .trim()
      .split('\r\n');
    expect(csvLines[0]).toBe('expiresAt,subject,field,policy,system');
    expect(csvLines).toHaveLength(ofSystem + 1);
    const [ndjson] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download NDJSON' }).click(),
    ]);
    const ndjsonLines = readFileSync(await ndjson.path(), 'utf8')
      .trim()
      .split('\n');
    expect(ndjsonLines).toHaveLength(ofSystem);
    expect(JSON.parse(ndjsonLines[0]!)).toMatchObject({ system });
    expect(errors).toEqual([]);
  });
});

describe('audit', { timeout: 60_000 }, () => {
  it('browses the log and verifies the chain, as an auditor', async () => {
    const token = await mint('auditor');
    await signInWithPastedToken(token);
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const rows = page.getByTestId('audit-entries').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.first().locator('td').first().textContent()).toBe('1');
    const first = (await api(server.url, token, 'GET', '/v1/audit?limit=100')).body as {
      items: { seq: number; action: string }[];
      next?: number;
    };
    // The log only grows (reading it is itself recorded): what the page shows is a prefix of it.
    const shown = await rows.locator('td:nth-child(4)').allTextContents();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown).toEqual(first.items.slice(0, shown.length).map((entry) => entry.action));
    if (first.next !== undefined) {
      await page.getByRole('button', { name: 'Newer' }).click();
      await expect.poll(() => rows.first().locator('td').first().textContent()).toBe(String(first.next + 1));
    }
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    const verdict = page.getByTestId('verification');
    await verdict.waitFor();
    const expected = (await api(server.url, token, 'GET', '/v1/audit/verify')).body as {
      ok: boolean;
      checked: number;
    };
    expect(expected.ok).toBe(true);
    expect(await verdict.textContent()).toContain('Intact.');
    await screenshot(page, '19-audit');
    expect(errors).toEqual([]);
  });

  it('tells a dpo that the audit log is for admins and auditors', async () => {
    await signInWithPastedToken(await mint('dpo'));
    const navigation = page.getByRole('navigation', { name: 'Pages' });
    await navigation.getByRole('link', { name: 'Requests' }).waitFor();
    expect(await navigation.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    await page.goto(`${server.url}/audit`);
    expect(await page.getByRole('alert').textContent()).toContain('You may not see this');
    expect(errors).toEqual([]);
  });
});

describe('lethe token create --link', { timeout: 60_000 }, () => {
  it('refuses an address that is not http(s), and --url without --link (exit 2)', async () => {
    for (const args of [
      ['--link', '--url', 'ftp://example.com'],
      ['--link', '--url', 'not a url'],
      ['--url', server.url],
    ]) {
      const result = await runLethe(['token', 'create', '--role', 'dpo', '--data-dir', dataDir, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout, args.join(' ')).toBe('');
      expect(result.stderr, args.join(' ')).toContain('--url');
    }
  });
});

describe('consent', { timeout: 60_000 }, () => {
  /** `2024-05-20 08:30 UTC`, as the dashboard writes an instant where the minute matters. */
  const minute = (instant: string) => `${instant.slice(0, 10)} ${instant.slice(11, 16)} UTC`;
  const cellsOf = (row: Locator) => row.locator('td').allTextContents();

  it('shows u-1001’s newsletter grant, its withdrawal on 2024-05-20 and the mail after it, as the API records them', async () => {
    const token = await mint('dpo');
    const consent = (await api(server.url, token, 'GET', '/v1/subjects/u-1001/consent'))
      .body as SubjectConsent;
    const retention = (await api(server.url, token, 'GET', '/v1/subjects/u-1001')).body as SubjectRetention;
    const violations = (await api(server.url, token, 'GET', '/v1/consent/violations?subject=u-1001'))
      .body as ConsentViolationPage;
    expect(consent.purposes['marketing.email']).toMatchObject({
      granted: false,
      withdrawnAt: '2024-05-20T08:30:00.000Z',
    });

    await signInWithPastedToken(token);
    await page.goto(`${server.url}/subjects/u-1001`);
    const history = page.getByTestId('consent-history');
    await history.waitFor();
    expect(await page.getByTestId('consent-states').textContent()).toContain(
      'marketing.email withdrawn since 2024-05-20 08:30 UTC (granted 2023-01-05 10:00 UTC until then)',
    );
    // Every grant and withdrawal with its proof, newest first: the API's history reversed.
    const rows = await history.locator('tbody tr').all();
    const newestFirst = [...consent.history].reverse();
    expect(rows).toHaveLength(newestFirst.length);
    for (const [index, record] of newestFirst.entries()) {
      const [when, purpose, choice, source, method, channel, notice, url, recordedBy, tcString] =
        await cellsOf(rows[index]!);
      expect(when).toBe(minute(record.at));
      expect(purpose).toBe(record.purpose);
      expect(choice).toBe(record.granted ? 'granted' : 'withdrawn');
      expect([source, method, channel, url]).toEqual([
        record.source ?? '—',
        record.method ?? '—',
        record.channel ?? '—',
        record.url ?? '—',
      ]);
      expect(notice).toBe(`${record.notice} (version ${record.noticeVersion})`);
      expect(recordedBy).toBe(
        `${record.recordedBy.id} (${record.recordedBy.role})${minute(record.recordedAt)}`,
      );
      expect(tcString).toBe('—');
    }
    expect(await cellsOf(rows[0]!)).toEqual(
      expect.arrayContaining(['2024-05-20 08:30 UTC', 'withdrawn', 'mailer']),
    );
    expect(await cellsOf(rows[1]!)).toEqual(
      expect.arrayContaining(['2023-01-05 10:00 UTC', 'granted', 'checkbox']),
    );

    // The mail of 2024-06-03, after the withdrawal, is marked in the timeline wherever the API's
    // subject view shows a latest use that was not consented.
    const unconsented = retention.fields.flatMap((field) =>
      field.uses
        .filter(
          (use) =>
            use.consentPurpose !== undefined &&
            (use.lastConsentedUseAt === undefined || use.lastConsentedUseAt < use.lastUseAt),
        )
        .map((use) => `${field.field} ${use.lastUseAt.slice(0, 10)}`),
    );
    expect(unconsented).toContain('campaigns.opens 2024-06-03');
    const marked = page.getByTestId('timeline').locator('li.without-consent');
    const markedTexts = await marked.allTextContents();
    expect(
      markedTexts.map((text) => `${/[a-z]+\.[a-z_]+/.exec(text)?.[0]} ${text.slice(0, 10)}`).sort(),
    ).toEqual(unconsented.sort());
    expect(markedTexts[0]).toContain('without consent');
    expect(markedTexts[0]).toContain('the latest consented one: 2024-04-02');
    // …and listed as the violation the server recorded.
    expect(violations.items).toHaveLength(1);
    const violation = violations.items[0]!;
    expect(await cellsOf(page.getByTestId('subject-violations').locator('tbody tr'))).toEqual([
      violation.policy,
      violation.system,
      violation.purpose,
      violation.firstAt.slice(0, 10),
      violation.lastAt.slice(0, 10),
      String(violation.count),
    ]);
    await screenshot(page, '20-subject-consent');

    // A tablet: the wide history table scrolls inside its box, the page does not.
    await page.setViewportSize({ width: 820, height: 1180 });
    expect(
      await inPage<number>(page, 'document.documentElement.scrollWidth - window.innerWidth'),
    ).toBeLessThanOrEqual(0);
    await screenshot(page, '21-subject-consent-tablet');
    expect(errors).toEqual([]);
  });

  it('shows a TC string shortened, and its whole text on Enter', async () => {
    const token = await mint('dpo');
    const subject = 'u-2100';
    expect((await api(server.url, token, 'GET', `/v1/subjects/${subject}`)).status).toBe(200);
    const string = tcString({ purposeConsents: [1, 7, 8, 9], lastUpdated: '2024-03-04T00:00:00Z' });
    const recorded = await api(server.url, token, 'PUT', `/v1/subjects/${subject}/consent`, {
      tcString: string,
      channel: 'web',
    });
    expect(recorded.status).toBe(200);
    await signInWithPastedToken(token);
    await page.goto(`${server.url}/subjects/${subject}`);
    const rows = page.getByTestId('consent-history').locator('tbody tr');
    await rows.first().waitFor();
    const fromString = rows.filter({ hasText: 'tcf' });
    // One grant or withdrawal per mapped purpose (docs/consent.md), each carrying the string.
    expect(await fromString.count()).toBe(8);
    const analytics = rows.filter({ hasText: 'analytics.product' });
    expect(await cellsOf(analytics)).toEqual(
      expect.arrayContaining(['2024-03-04 00:00 UTC', 'granted', 'tcf', 'cmp:300 v7']),
    );
    const summary = analytics.locator('summary');
    expect(await summary.textContent()).toBe(`${string.slice(0, 16)}…`);
    const full = analytics.locator('details > code');
    expect(await full.isVisible()).toBe(false);
    // From the keyboard: the summary takes focus, Enter opens it, the whole string is there to copy.
    await summary.focus();
    await page.keyboard.press('Enter');
    await full.waitFor();
    expect(await full.textContent()).toBe(string);
    await screenshot(page, '22-subject-tc-string');
    expect(errors).toEqual([]);
  });

  it('lists the latest consent violations on the overview as the API does, linked to the subject', async () => {
    const token = await mint('dpo');
    const overview = (await api(server.url, token, 'GET', '/v1/overview')).body as Overview;
    const latest = (await api(server.url, token, 'GET', '/v1/consent/violations?limit=10'))
      .body as ConsentViolationPage;
    expect(overview.counts.consentViolations, 'the demo has violations').toBeGreaterThan(latest.items.length);
    await signInWithPastedToken(token);
    const rows = page.getByTestId('violations').locator('tbody tr');
    await rows.first().waitFor();
    const shown = await Promise.all((await rows.all()).map(cellsOf));
    expect(shown).toEqual(
      latest.items.map((item) => [
        item.subject,
        item.policy,
        item.system,
        item.lastAt.slice(0, 10),
        String(item.count),
      ]),
    );
    const count = await page.locator('[data-count="consentViolations"]').textContent();
    expect(count?.replace(/\D/g, '')).toBe(String(overview.counts.consentViolations));
    await screenshot(page, '23-overview-violations');
    // A subject in the panel opens its page, with the use marked there.
    const first = latest.items[0]!;
    await rows.first().getByRole('link', { name: first.subject }).click();
    await page.getByRole('heading', { level: 1, name: `Why do we hold ${first.subject}?` }).waitFor();
    await page.getByTestId('timeline').locator('li.without-consent').first().waitFor();
    expect(errors).toEqual([]);
  });

  it('shows an auditor without the subject-ids grant the pseudonyms the API gives, not links; with the grant, ids', async () => {
    const auditor = await mint('auditor');
    const pseudonymised = (await api(server.url, auditor, 'GET', '/v1/consent/violations?limit=10'))
      .body as ConsentViolationPage;
    expect(pseudonymised.items.length).toBeGreaterThan(0);
    for (const item of pseudonymised.items) expect(item.subject).not.toMatch(/^u-/);
    await signInWithPastedToken(auditor);
    const panel = page.getByTestId('violations');
    await panel.locator('tbody tr').first().waitFor();
    expect(await panel.locator('tbody td:first-child').allTextContents()).toEqual(
      pseudonymised.items.map((item) => item.subject),
    );
    expect(await panel.getByRole('link').count()).toBe(0);
    expect(await panel.locator('caption').textContent()).toContain('pseudonymised');
    await screenshot(page, '24-overview-violations-auditor');
    await page.getByRole('button', { name: 'Sign out' }).click();

    const granted = await mint('auditor', '--grant', 'subject-ids');
    const withIds = (await api(server.url, granted, 'GET', '/v1/consent/violations?limit=10'))
      .body as ConsentViolationPage;
    await signInWithPastedToken(granted);
    await panel.getByRole('link').first().waitFor();
    expect(await panel.getByRole('link').allTextContents()).toEqual(
      withIds.items.map((item) => item.subject),
    );
    expect(errors).toEqual([]);
  });

  it('shows an auditor without the subject-ids grant re-appearances under the API’s pseudonyms, not links; with the grant, ids', async () => {
    // A field used again after its confirmed erasure: published, erased, published again.
    const admin = await mint('admin');
    const subject = `back-again-${process.pid}`;
    const use = (id: string, at: string) => ({
      events: [
        {
          id: `${subject}-${id}`,
          subject,
          system: 'orders',
          policy: 'order-delivery',
          fields: ['orders.shipping_address'],
          at,
        },
      ],
    });
    expect(
      (await api(server.url, admin, 'POST', '/v1/events', use('1', '2024-01-01T00:00:00Z'))).status,
    ).toBe(200);
    const erased = await api(server.url, admin, 'POST', `/v1/subjects/${subject}/erasures`, {
      system: 'orders',
      at: '2024-02-01T00:00:00Z',
    });
    expect(erased.status).toBe(200);
    expect(
      (await api(server.url, admin, 'POST', '/v1/events', use('2', '2024-03-01T00:00:00Z'))).status,
    ).toBe(200);

    const auditor = await mint('auditor');
    const pseudonymised = (await api(server.url, auditor, 'GET', '/v1/reappearances?limit=10')).body as {
      items: { subject: string }[];
    };
    expect(pseudonymised.items.length).toBeGreaterThan(0);
    expect(pseudonymised.items.map((item) => item.subject)).not.toContain(subject);
    await signInWithPastedToken(auditor);
    const panel = page.getByRole('region', { name: 'Re-appearances' });
    await panel.locator('tbody tr').first().waitFor();
    expect(await panel.locator('tbody td:first-child').allTextContents()).toEqual(
      pseudonymised.items.map((item) => item.subject),
    );
    expect(await panel.getByRole('link').count()).toBe(0);
    expect(await panel.locator('caption').textContent()).toContain('pseudonymised');
    await screenshot(page, '25-overview-reappearances-auditor');
    await page.getByRole('button', { name: 'Sign out' }).click();

    await signInWithPastedToken(await mint('auditor', '--grant', 'subject-ids'));
    await panel.getByRole('link').first().waitFor();
    expect(await panel.getByRole('link').allTextContents()).toContain(subject);
    expect(await panel.locator('caption').textContent()).not.toContain('pseudonymised');
    expect(errors).toEqual([]);
  });

  it('reaches the violations panel and a subject’s page from the keyboard', async () => {
    await signInWithPastedToken(await mint('dpo'));
    const firstLink = page.getByTestId('violations').getByRole('link').first();
    await firstLink.waitFor();
    const subject = await firstLink.textContent();
    // Tab through the page until the first subject link of the panel has focus, then follow it.
    for (let presses = 0; presses < 60; presses += 1) {
      await page.keyboard.press('Tab');
      if (await firstLink.evaluate((link) => link === link.ownerDocument.activeElement)) break;
    }
    expect(await firstLink.evaluate((link) => link === link.ownerDocument.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: `Why do we hold ${subject}?` }).waitFor();
    expect(await inPage(page, 'document.activeElement?.tagName')).toBe('H1');
    expect(errors).toEqual([]);
  });
});

describe('data contracts', { timeout: 60_000 }, () => {
  it('lists every contract as the API does: version, versions, subject and personal attributes with their purposes', async () => {
    const token = await mint('auditor');
    const contracts = (await api(server.url, token, 'GET', '/v1/contracts')).body as {
      items: DataContract[];
    };
    expect(contracts.items.length, 'the demo publishes a contract').toBeGreaterThan(0);
    await signInWithPastedToken(token);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Contracts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Data contracts' }).waitFor();
    const cards = page.getByTestId('contract');
    await expect.poll(() => cards.count()).toBe(contracts.items.length);
    for (const contract of contracts.items) {
      const card = cards.filter({ has: page.getByRole('heading', { level: 2, name: contract.name }) });
      const history = (await api(server.url, token, 'GET', `/v1/contracts/${contract.name}`))
        .body as ContractHistory;
      await expect
        .poll(() => card.getByTestId('contract-versions').textContent())
        .toBe(history.versions.join(', '));
      expect(await card.locator('dl').textContent()).toContain(`Version${contract.version}, published`);
      const rows = await card.locator('tbody tr').all();
      expect(await Promise.all(rows.map((row) => row.locator('td').allTextContents()))).toEqual(
        contract.personal.map((personal) => [personal.attribute, personal.purposes.join(', ')]),
      );
    }
    await screenshot(page, '25-contracts');
    expect(errors).toEqual([]);
  });
});
