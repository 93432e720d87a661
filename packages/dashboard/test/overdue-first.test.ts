import type { ExpiryPage, Overview } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import { api } from '../../server/test/support/lethe-process.js';
import { screenshot } from './support/browser.js';
import {
  errors,
  mint,
  openDemoDashboard,
  page,
  server,
  signInWithPastedToken,
} from './support/demo-dashboard.js';

/** "Overdue first": the overview's act-now cards and the calendar's presets, in the address. */

openDemoDashboard();

const DEMO_SUBJECT = 'u-1001';
const pathOf = (url: string) => {
  const { pathname, search } = new URL(url);
  return `${pathname}${search}`;
};

describe('overdue first', { timeout: 90_000 }, () => {
  it('shows the fields past expiry per system with days late, and a card opens the filtered list', async () => {
    const token = await mint('dpo');
    const overview = (await api(server.url, token, 'GET', '/v1/overview')).body as Overview;
    const due = overview.pastExpiry.filter((system) => system.fields > 0);
    const total = due.reduce((sum, system) => sum + system.fields, 0);
    expect(total, 'the demo holds fields past their expiry').toBeGreaterThan(100);
    // u-1001's account expired on 2025-01-05 (DESIGN.md §4): the oldest is well over a year late.
    expect(Math.max(...due.map((system) => system.daysLate))).toBeGreaterThan(365);
    await signInWithPastedToken(token);

    // The cards come first on the page, before what Lethe holds. The panels' headings show before
    // the overview has loaded, so the order is read once the cards are there.
    await page.getByRole('heading', { level: 2, name: 'Act now' }).waitFor();
    const headings = await page.getByRole('heading', { level: 2 }).allTextContents();
    expect(headings[0]).toBe('Act now');
    const count = await page.locator('[data-count="pastExpiryFields"]').textContent();
    expect(count?.replace(/\D/g, '')).toBe(String(total));
    const rows = page.getByTestId('past-expiry').locator('tbody tr');
    const shown = await Promise.all((await rows.all()).map((row) => row.locator('td').allTextContents()));
    expect(shown).toEqual(
      due.map((system) => [
        system.system,
        system.fields.toLocaleString('en-US'),
        system.subjects.toLocaleString('en-US'),
        system.daysLate === 0 ? 'due today' : `${system.daysLate.toLocaleString('en-US')} days late`,
      ]),
    );
    await screenshot(page, '30-overview-act-now');

    // The requests card opens the requests list filtered to the overdue ones.
    await page.getByRole('link', { name: /overdue$/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Requests' }).waitFor();
    expect(pathOf(page.url())).toBe('/requests?due=overdue');
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

    // The past-expiry card opens the calendar's overdue list, u-1001 among it, linked.
    await page.getByRole('link', { name: /subject fields to delete now/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Expiry calendar' }).waitFor();
    expect(pathOf(page.url())).toBe('/calendar?preset=overdue');
    const listed = page.getByTestId('expiries').locator('tbody tr');
    await listed.first().waitFor();
    expect(await listed.count()).toBe(Math.min(100, total));
    await expect.poll(() => page.getByRole('link', { name: DEMO_SUBJECT }).count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: 'Overdue' }).getAttribute('aria-current')).toBe('page');
    await screenshot(page, '31-calendar-overdue');
    expect(errors).toEqual([]);
  });

  it('lists u-1001 under the overdue preset, keeps the query in the address and names days by their text', async () => {
    const token = await mint('dpo');
    const dueOfAccounts = (
      await api(server.url, token, 'GET', '/v1/expiries/due?system=accounts&limit=10000')
    ).body as ExpiryPage;
    expect(dueOfAccounts.items.some((item) => item.subject === DEMO_SUBJECT)).toBe(true);
    await signInWithPastedToken(token);
    await page.getByRole('link', { name: 'Expiry calendar' }).click();
    await page.getByRole('heading', { level: 1, name: 'Expiry calendar' }).waitFor();
    // Opened without a query: the next 7 days, overdue included (so u-1001's late fields lead).
    expect(await page.getByRole('link', { name: 'Next 7 days' }).getAttribute('aria-current')).toBe('page');
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toMatch(/^Overdue and /);
    const rows = page.getByTestId('expiries').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.first().locator('td').nth(5).textContent()).toBe('due');

    // The overdue preset of one system: every due row of it, u-1001's account among them.
    await page.getByRole('link', { name: 'Overdue' }).click();
    await page.getByLabel('System').selectOption('accounts');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await expect.poll(() => pathOf(page.url())).toBe('/calendar?preset=overdue&system=accounts');
    await expect.poll(() => rows.count()).toBe(Math.min(100, dueOfAccounts.items.length));
    const subjectLink = rows.getByRole('link', { name: DEMO_SUBJECT }).first();
    await subjectLink.waitFor();
    for (const cell of await rows.locator('td:nth-child(5)').allTextContents()) expect(cell).toBe('accounts');
    // Policies are links too.
    const policy = (await rows.first().locator('td:nth-child(4)').textContent()) ?? '';
    expect(await rows.first().getByRole('link', { name: policy }).getAttribute('href')).toBe(
      `/policies/${policy}`,
    );

    // A reload shows the same list; Back returns to the previous query.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Expiry calendar' }).waitFor();
    // The select takes the address's value once its options (the systems) have loaded.
    await expect.poll(() => page.getByLabel('System').inputValue()).toBe('accounts');
    await expect.poll(() => rows.count()).toBe(Math.min(100, dueOfAccounts.items.length));
    await page.getByRole('link', { name: 'Next 30 days' }).click();
    await expect.poll(() => pathOf(page.url())).toBe('/calendar?preset=30d&system=accounts');
    await page.getByLabel('Include overdue').uncheck();
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await expect.poll(() => pathOf(page.url())).toBe('/calendar?preset=30d&system=accounts&overdue=hide');
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).not.toMatch(/Overdue/);
    await page.goBack();
    await expect.poll(() => pathOf(page.url())).toBe('/calendar?preset=30d&system=accounts');
    expect(await page.getByLabel('Include overdue').isChecked()).toBe(true);
    await page.goBack();
    await expect.poll(() => pathOf(page.url())).toBe('/calendar?preset=overdue&system=accounts');
    expect(await page.getByRole('link', { name: 'Overdue' }).getAttribute('aria-current')).toBe('page');

    // The day grid: weekday columns, a heading per month, and each day named by its own text.
    await page.getByText(/Pick a day/).click();
    const today = new Date();
    const month = today.toLocaleString('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });
    await page.getByRole('heading', { level: 3, name: month }).waitFor();
    const firstDay = page.locator(`[data-day="${today.toISOString().slice(0, 10)}"]`);
    expect(await firstDay.getAttribute('aria-label')).toBeNull();
    const weekday = today.toLocaleString('en', { weekday: 'long', timeZone: 'UTC' });
    const fields = (await firstDay.locator('.n').textContent()) ?? '';
    const name = `${weekday} ${today.getUTCDate()} ${month}: ${fields} fields expire`;
    await page.getByRole('button', { name, exact: true }).click();
    await expect
      .poll(() => pathOf(page.url()))
      .toMatch(/^\/calendar\?from=(\d{4}-\d\d-\d\d)&to=\1&system=accounts$/);
    await screenshot(page, '32-calendar-day-grid');
    expect(errors).toEqual([]);
  });
});
