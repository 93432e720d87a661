import type { ExpiryPage, SessionView } from '@lethe/api';
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

/** Legal holds and expire now in the dashboard (docs/dashboard.md "Legal holds", "Expire now"). */

openDemoDashboard();

const DAY_MS = 86_400_000;
const dayIn = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
const today = () => dayIn(0);

describe('legal holds and expire now', { timeout: 120_000 }, () => {
  it('expires a field now (due today), holds it (held on the subject page and in the calendar), and releases the hold', async () => {
    const token = await mint('dpo');
    // A field that expires in a few weeks, so that "due today" is the decision's doing.
    const upcoming = (
      await api(server.url, token, 'GET', `/v1/expiries?from=${dayIn(3)}&to=${dayIn(80)}&limit=1`)
    ).body as ExpiryPage;
    expect(upcoming.items, 'the demo has a field expiring in the coming weeks').toHaveLength(1);
    const { subject: SUBJECT, field: name, system } = upcoming.items[0]!;

    await signInWithPastedToken(token);
    await page.goto(`${server.url}/subjects/${SUBJECT}`);
    await page.getByRole('button', { name: 'Expire fields now…' }).click();
    const form = page.getByRole('form', { name: 'Expire now' });
    // The reason is required: the browser refuses the form without it, nothing is sent.
    await form.getByRole('button', { name: 'Make due today' }).click();
    const reasonMissing = await page
      .getByLabel('Reason')
      .evaluate((input: { validity: { valueMissing: boolean } }) => input.validity.valueMissing);
    expect(reasonMissing).toBe(true);
    await page.getByLabel('Reason').fill('DPO decision 2026-31: account data no longer needed');
    await form.getByRole('checkbox', { name }).check();
    await form.getByRole('button', { name: 'Make due today' }).click();
    const outcome = page.getByTestId('expire-now-outcome');
    await outcome.waitFor();
    expect(await outcome.textContent()).toContain(`${name} due ${today()}`);
    const fieldRow = page.locator('tbody tr', {
      has: page.locator('code', { hasText: new RegExp(`^${name}$`) }),
    });
    await expect.poll(() => fieldRow.first().textContent()).toContain('expired now');
    expect(await fieldRow.first().textContent()).toContain(today());
    await screenshot(page, '30-subject-expired-now');

    // The calendar of today, for the field's system: the field is due.
    const feed = (
      await api(server.url, token, 'GET', `/v1/expiries?day=${today()}&system=${system}&limit=200`)
    ).body as ExpiryPage;
    expect(feed.items.length, 'today’s rows of the system fit on one calendar page').toBeLessThanOrEqual(100);
    const calendarStatus = async () => {
      await page.getByRole('link', { name: 'Expiry calendar' }).click();
      await page.getByRole('heading', { level: 1, name: 'Expiry calendar' }).waitFor();
      await page.getByLabel('To').fill(today());
      await page.getByLabel('System').selectOption(system);
      await page.getByRole('button', { name: 'Show', exact: true }).click();
      const row = page
        .getByTestId('expiries')
        .locator('tbody tr')
        .filter({ hasText: SUBJECT })
        .filter({ has: page.locator('code', { hasText: new RegExp(`^${name}$`) }) });
      await row.waitFor();
      return (await row.locator('td').nth(5).textContent())?.trim();
    };
    expect(await calendarStatus()).toBe('due');

    // A hold over the subject, placed on the holds page.
    await page.getByRole('link', { name: 'Legal holds' }).click();
    await page.getByRole('heading', { level: 1, name: 'Legal holds' }).waitFor();
    await page.getByTestId('no-holds').waitFor();
    await page.getByRole('button', { name: 'Place a hold…' }).click();
    const holdForm = page.getByRole('form', { name: 'Place a hold' });
    await holdForm.getByLabel('Name').fill('smith-v-acme');
    await holdForm.getByLabel('Reason').fill('Smith v. Acme, case 42');
    await holdForm.getByLabel('Subjects').fill(SUBJECT);
    await holdForm.getByLabel('Review on').fill('2027-06-30');
    await holdForm.getByRole('button', { name: 'Place hold' }).click();
    await page.getByRole('status').filter({ hasText: 'Hold smith-v-acme placed.' }).waitFor();
    const holdRow = page.getByTestId('holds').locator('tbody tr');
    await expect.poll(() => holdRow.count()).toBe(1);
    const cells = await holdRow.locator('td').allTextContents();
    const me = (await api(server.url, token, 'GET', '/v1/session')).body as SessionView;
    expect(cells.slice(0, 6)).toEqual([
      'smith-v-acme',
      'Smith v. Acme, case 42',
      `subjects ${SUBJECT}`,
      today(),
      me.subject,
      '2027-06-30',
    ]);
    await screenshot(page, '31-legal-holds');

    // Editing keeps who placed it; the name cannot change.
    await page.getByRole('button', { name: 'Edit smith-v-acme' }).click();
    const editForm = page.getByRole('form', { name: 'Change hold smith-v-acme' });
    await editForm.getByLabel('Reason').fill('Smith v. Acme, case 42 (appeal)');
    await editForm.getByRole('button', { name: 'Save hold' }).click();
    await page.getByRole('status').filter({ hasText: 'Hold smith-v-acme saved.' }).waitFor();
    await expect
      .poll(() => holdRow.locator('td').nth(1).textContent())
      .toBe('Smith v. Acme, case 42 (appeal)');

    // The subject page shows the field held: which hold, since when, by whom, why.
    await page.goto(`${server.url}/subjects/${SUBJECT}`);
    await expect.poll(() => fieldRow.first().textContent()).toContain('held: smith-v-acme');
    expect(await fieldRow.first().textContent()).toContain(`since ${today()}`);
    expect(await fieldRow.first().textContent()).toContain('Smith v. Acme, case 42 (appeal)');
    await screenshot(page, '32-subject-held');
    expect(await calendarStatus()).toBe('held: smith-v-acme');

    // Release, after a confirmation; the field is due again at once.
    await page.getByRole('link', { name: 'Legal holds' }).click();
    await page.getByRole('button', { name: 'Release smith-v-acme…' }).click();
    const dialog = page.getByRole('alertdialog');
    expect(await dialog.textContent()).toContain('becomes due at once');
    await dialog.getByRole('button', { name: 'Release smith-v-acme' }).click();
    await page.getByTestId('no-holds').waitFor();
    expect(await calendarStatus()).toBe('due');

    const audit = (
      await api(server.url, await mint('auditor', '--grant', 'subject-ids'), 'GET', '/v1/audit?limit=1000')
    ).body as { items: { action: string; target: string }[] };
    expect(
      audit.items
        .filter((entry) => entry.target === 'hold:smith-v-acme' || entry.action === 'subject.expire-now')
        .map((entry) => entry.action),
    ).toEqual(['subject.expire-now', 'hold.place', 'hold.change', 'hold.release']);
    expect(errors).toEqual([]);
  });

  it('shows an auditor the holds read-only and offers it no expire-now', async () => {
    const dpo = await mint('dpo');
    const placed = await api(server.url, dpo, 'PUT', '/v1/holds/dpa-inquiry', {
      reason: 'DPA inquiry 2026-17',
      systems: ['orders'],
    });
    expect(placed.status).toBe(201);
    await signInWithPastedToken(await mint('auditor', '--grant', 'subject-ids'));
    await page.getByRole('link', { name: 'Legal holds' }).click();
    const row = page.getByTestId('holds').locator('tbody tr');
    await row.waitFor();
    expect(await row.locator('td').allTextContents()).toEqual(
      expect.arrayContaining(['dpa-inquiry', 'DPA inquiry 2026-17', 'systems orders']),
    );
    expect(await page.getByRole('button').allTextContents()).not.toContain('Place a hold…');
    expect(await page.getByRole('button', { name: /Edit|Release/ }).count()).toBe(0);

    await page.goto(`${server.url}/subjects/u-1001`);
    await page.getByRole('heading', { name: 'Fields' }).waitFor();
    expect(await page.getByRole('button', { name: 'Expire fields now…' }).count()).toBe(0);
    expect(await api(server.url, dpo, 'DELETE', '/v1/holds/dpa-inquiry')).toMatchObject({ status: 204 });
    expect(errors).toEqual([]);
  });
});
