import type { ContractHistory, DataContract } from '@lethe/api';
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

/** The data contracts page: every contract with its versions and personal attributes. */

openDemoDashboard();

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
