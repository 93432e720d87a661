import { beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../server/test/support/lethe-process.js';
import { inPage, screenshot } from './support/browser.js';
import {
  errors,
  mint,
  openDemoDashboard,
  page,
  server,
  signInWithPastedToken,
} from './support/demo-dashboard.js';

/**
 * The dashboard's lists (components/data-table.tsx): searched, sorted and paged on the server,
 * with their state in the address so reload, Back and shared links show the same rows.
 */

// Verification required: the requests filed here stay `received` instead of running.
openDemoDashboard({ env: { LETHE_REQUEST_VERIFICATION: 'required' } });

const FILED = 30;
const DAY = 86_400_000;

describe('lists', { timeout: 120_000 }, () => {
  let dpo: string;

  beforeAll(async () => {
    dpo = await mint('dpo');
    // One a day going back: list-029 was received first and is due first.
    for (let index = 0; index < FILED; index += 1) {
      const { status, body } = await api(server.url, dpo, 'POST', '/v1/requests', {
        id: `list-${String(index).padStart(3, '0')}`,
        type: 'dsar',
        identifiers: { email: `list-${index}@example.com` },
        receivedAt: new Date(Date.now() - index * DAY).toISOString(),
      });
      expect(status, JSON.stringify(body)).toBe(201);
    }
  }, 60_000);

  const rows = () => page.getByTestId('requests').locator('tbody tr');
  const firstIds = async (count: number) =>
    (await rows().locator('td:first-child').allTextContents()).slice(0, count);
  const pager = () => page.getByRole('navigation', { name: 'Pages' }).getByRole('status');
  const query = () => new URL(page.url()).searchParams;

  it('pages through the requests, searches them by id and sorts them by due date', async () => {
    await signInWithPastedToken(dpo);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Requests' }).click();
    await page.getByRole('heading', { level: 1, name: 'Requests' }).waitFor();
    await expect.poll(() => pager().textContent()).toBe(`1–25 of ${FILED}`);
    expect(await rows().count()).toBe(25);

    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => pager().textContent()).toBe(`26–${FILED} of ${FILED}`);
    expect(query().get('page')).toBe('2');
    expect(await rows().count()).toBe(FILED - 25);
    // Back returns to the first page; the address holds the state.
    await page.goBack();
    await expect.poll(() => pager().textContent()).toBe(`1–25 of ${FILED}`);

    await page.getByLabel('Request id starts with').fill('list-01');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => rows().count()).toBe(10);
    expect(query().get('q')).toBe('list-01');
    expect((await firstIds(10)).every((id) => id.startsWith('list-01'))).toBe(true);

    const due = page.getByRole('columnheader', { name: 'Due' });
    expect(await due.getAttribute('aria-sort')).toBe('none');
    await due.getByRole('button', { name: 'Due' }).click();
    await expect.poll(() => due.getAttribute('aria-sort')).toBe('ascending');
    expect(query().get('sort')).toBe('due');
    await expect.poll(() => firstIds(1)).toEqual(['list-019']);
    await due.getByRole('button', { name: 'Due' }).click();
    await expect.poll(() => due.getAttribute('aria-sort')).toBe('descending');
    await expect.poll(() => firstIds(1)).toEqual(['list-010']);
    expect(query().get('sort')).toBe('-due');

    // A reload shows the same rows, the same order, the same search.
    await page.reload();
    await expect.poll(() => firstIds(1)).toEqual(['list-010']);
    expect(await page.getByLabel('Request id starts with').inputValue()).toBe('list-01');
    expect(await page.getByRole('columnheader', { name: 'Due' }).getAttribute('aria-sort')).toBe(
      'descending',
    );
    await screenshot(page, '30-requests-list');
    expect(errors).toEqual([]);
  });

  it('opens a shared address with its filters, and keeps the page inside 390 px', async () => {
    await signInWithPastedToken(dpo);
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(`${server.url}/requests?status=all&type=dsar&q=list-00&sort=due&page=1`);
    await expect.poll(() => rows().count()).toBe(10);
    expect(await firstIds(1)).toEqual(['list-009']);
    expect(await page.getByLabel('Status').inputValue()).toBe('all');
    expect(await page.getByLabel('Type').inputValue()).toBe('dsar');
    // The table scrolls sideways inside its wrapper; the page itself does not.
    expect(await inPage<number>(page, 'document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    // The oldest was received 29 days ago: none is past its month yet.
    await page.getByLabel('Due').selectOption('overdue');
    await expect.poll(() => query().get('due')).toBe('overdue');
    expect(query().get('page')).toBeNull();
    await page.getByText('No requests match.').waitFor();
    await screenshot(page, '31-requests-390');
    expect(errors).toEqual([]);
  });

  it('pages and filters the consent violations', async () => {
    const admin = await mint('admin');
    const total = async (filter: string) =>
      (
        (await api(server.url, admin, 'GET', `/v1/consent/violations?limit=1${filter}`)).body as {
          total: number;
        }
      ).total;
    // The demo's violations and ten more: mail to people who never consented, two pages' worth.
    const events = Array.from({ length: 10 }, (_, index) => ({
      subject: `list-v-${index}`,
      system: 'mailer',
      policy: 'send-marketing-email',
      fields: ['accounts.email'],
      at: new Date(Date.now() - index * 60_000).toISOString(),
    }));
    const sent = await api(server.url, admin, 'POST', '/v1/events', { events });
    expect(sent.body).toMatchObject({ accepted: 10, rejected: [] });
    const all = await total('');
    expect(all).toBeGreaterThan(25);
    await signInWithPastedToken(admin);
    await page.getByRole('link', { name: 'All consent violations' }).click();
    await page.getByRole('heading', { level: 1, name: 'Consent violations' }).waitFor();
    const violations = page.getByTestId('violations').locator('tbody tr');
    await expect.poll(() => pager().textContent()).toBe(`1–25 of ${all}`);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => pager().textContent()).toBe(`26–${Math.min(50, all)} of ${all}`);
    expect(query().get('page')).toBe('2');

    await page.getByLabel('System').selectOption('mailer');
    const mailer = await total('&system=mailer');
    await expect.poll(() => query().get('system')).toBe('mailer');
    expect(query().get('page')).toBeNull();
    await expect.poll(() => pager().textContent()).toBe(`1–${Math.min(25, mailer)} of ${mailer}`);
    expect(
      (await violations.locator('td:nth-child(3)').allTextContents()).every((system) => system === 'mailer'),
    ).toBe(true);
    await page.getByLabel('System').selectOption('accounts');
    await page.getByText('None match.').waitFor();
    // The address is the filter: opened anew, it shows the same.
    await page.goto(`${server.url}/violations?system=mailer&policy=send-marketing-email&page=2`);
    const both = await total('&system=mailer&policy=send-marketing-email');
    if (both > 25) await expect.poll(() => pager().textContent()).toMatch(new RegExp(`^26–\\d+ of ${both}$`));
    expect(await page.getByLabel('Policy').inputValue()).toBe('send-marketing-email');
    await screenshot(page, '32-violations');
    expect(errors).toEqual([]);
  });

  it('pages the audit log and keeps the page on reload', async () => {
    const auditor = await mint('auditor');
    await signInWithPastedToken(auditor);
    await page.getByRole('link', { name: 'Audit' }).click();
    const entries = page.getByTestId('audit-entries').locator('tbody tr');
    await expect.poll(() => entries.count()).toBe(25);
    expect(await pager().textContent()).toMatch(/^1–25 of \d+$/);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => entries.first().locator('td').first().textContent()).toBe('26');
    await page.getByLabel('Per page').selectOption('50');
    await expect.poll(() => entries.count()).toBe(50);
    expect(query().get('size')).toBe('50');
    // The jump opens the page that holds the entry: for the last one, the last page.
    const { total } = (await api(server.url, auditor, 'GET', '/v1/audit?limit=1')).body as { total: number };
    const firstOfLast = String(Math.floor((total - 1) / 50) * 50 + 1);
    await page.getByLabel('Page with entry').fill(String(total));
    await page.getByRole('button', { name: 'Go' }).click();
    await expect.poll(() => entries.first().locator('td').first().textContent()).toBe(firstOfLast);
    await page.reload();
    await expect.poll(() => entries.first().locator('td').first().textContent()).toBe(firstOfLast);
    // A page of 50 rows, not the whole log: the page stays short.
    const height = await inPage<number>(page, 'document.documentElement.scrollHeight');
    expect(height).toBeLessThan(5_000);
    expect(errors).toEqual([]);
  });
});
