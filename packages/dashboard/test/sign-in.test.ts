import type { Overview } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import { api, runLethe } from '../../server/test/support/lethe-process.js';
import { inPage, screenshot, watchForErrors } from './support/browser.js';
import {
  context,
  dataDir,
  errors,
  mint,
  openDemoDashboard,
  page,
  server,
  signInWithPastedToken,
} from './support/demo-dashboard.js';

/**
 * Signing in and out, the navigation each role gets, a tablet and the keyboard; and the CLI that makes
 * sign-in links.
 */

openDemoDashboard();

describe('the dashboard in Chromium', { timeout: 60_000 }, () => {
  it('signs in with a pasted token and shows the overview with the server’s own counts', async () => {
    const token = await mint('dpo', '--subject', 'dana');
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Lethe' }).waitFor();
    await screenshot(page, '01-sign-in');
    await signInWithPastedToken(token);
    expect(page.getByText('dana')).toBeDefined();
    const expected = (await api(server.url, token, 'GET', '/v1/overview')).body as Overview;
    expect(expected.counts!.subjects).toBeGreaterThan(100);
    for (const [key, value] of Object.entries(expected.counts!)) {
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
    // A service's overview holds its own system's fields past expiry only: no other card, no refusal.
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Act now' }).waitFor();
    expect(await page.getByRole('heading', { level: 3 }).allTextContents()).toEqual(['Fields past expiry']);
    expect(await page.getByRole('alert').count()).toBe(0);
    const navigation = page.getByRole('navigation', { name: 'Pages' });
    expect(await navigation.getByRole('link').allTextContents()).toEqual([
      'Overview',
      'Policies',
      'Data map',
      'Expiry calendar',
      'Contracts',
    ]);
    // A page it may not use, opened by its address: the refusal, with the way out still there.
    await page.goto(`${server.url}/subjects/u-1001`);
    const alert = page.getByRole('alert').first();
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Your role (service) cannot look subjects up by id');
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
