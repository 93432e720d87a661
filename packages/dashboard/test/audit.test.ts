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

/** The audit log page: browsing the log and verifying the chain; and who may. */

openDemoDashboard();

describe('audit', { timeout: 60_000 }, () => {
  it('browses the log and verifies the chain, as an auditor', async () => {
    const token = await mint('auditor');
    await signInWithPastedToken(token);
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const rows = page.getByTestId('audit-entries').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.first().locator('td').first().textContent()).toBe('1');
    const first = (await api(server.url, token, 'GET', '/v1/audit?limit=25')).body as {
      items: { seq: number; action: string }[];
      next?: number;
    };
    // The log only grows (reading it is itself recorded): what the page shows is a prefix of it.
    const shown = await rows.locator('td:nth-child(4)').allTextContents();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown).toEqual(first.items.slice(0, shown.length).map((entry) => entry.action));
    if (first.next !== undefined) {
      await page.getByRole('button', { name: 'Next' }).click();
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

  it('lets the DPO, who monitors compliance, read the log with real subject ids and verify the chain', async () => {
    const token = await mint('dpo');
    // A read of a subject, on record under the subject's real id.
    expect((await api(server.url, token, 'GET', '/v1/subjects/u-1001')).status).toBe(200);
    await signInWithPastedToken(token);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const log = (await api(server.url, token, 'GET', '/v1/audit?limit=1000')).body as {
      items: { seq: number; target: string }[];
    };
    const read = log.items.find((entry) => entry.target === 'subject:u-1001');
    expect(read, 'the subject read is in the log under its id').toBeDefined();
    // The log is paged: jump to the page holding the entry, where the DPO reads it with the real id.
    await page.getByLabel('Page with entry').fill(String(read!.seq));
    await page.getByLabel('Page with entry').press('Enter');
    const row = page
      .getByTestId('audit-entries')
      .locator('tbody tr')
      .filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^${read!.seq}$`) }) });
    await expect.poll(() => row.first().locator('td').nth(4).textContent()).toBe('subject:u-1001');
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByTestId('verification').getByText('Intact.').waitFor();
    await screenshot(page, '31-audit-dpo');
    expect(errors).toEqual([]);
  });
});
