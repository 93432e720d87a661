import { readFileSync } from 'node:fs';
import type { Overview } from '@lethe/api';
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

/** The expiry calendar: what expires on a day, per system, and its downloads. */

openDemoDashboard();

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
    const day = page.locator(`[data-day="${busiest.day}"]`);
    expect(await day.locator('.n').textContent()).toBe(String(busiest.fields));
    await day.click();
    const rows = page.getByTestId('expiries').locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(busiest.fields);
    await screenshot(page, '18-calendar');

    const feed = (await api(server.url, token, 'GET', `/v1/expiries?day=${busiest.day}`)).body as {
      items: { system: string; status: string }[];
    };
    // Each row says whether it is due now, upcoming, or held, as the feed does.
    const statuses = await rows.locator('td:nth-child(6)').allTextContents();
    expect(statuses.sort()).toEqual(feed.items.map((item) => item.status).sort());
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
    expect(csvLines[0]).toBe('expiresAt,subject,field,policy,system,status,hold');
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
