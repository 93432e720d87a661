import { readFileSync } from 'node:fs';
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

/** The rights requests pages: filing a request, its tasks and tickets, the report and the DSAR package. */

openDemoDashboard();

describe('rights requests', { timeout: 90_000 }, () => {
  /** A demo subject who ordered, so that a request reaches the payments team's ticket. */
  async function subjectWhoOrdered(token: string, from = 2000): Promise<string> {
    for (let index = from; index < from + 100; index += 1) {
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

  it(
    'retries a failed task, extends and skips it with a reason; the ticket’s records and file reach the package',
    { timeout: 240_000 },
    async () => {
      const token = await mint('dpo');
      const subject = await subjectWhoOrdered(token, 2100);
      // Still unreachable, but refused at once: no name lookup or call timeout to wait out on
      // each of the ten attempts (the demo's accounts.internal may take the whole timeout).
      const admin = await mint('admin');
      const unreachable = { system: 'accounts', protocol: 'http', address: 'http://127.0.0.1:1/privacy' };
      expect((await api(server.url, admin, 'PUT', '/v1/clients/accounts-privacy', unreachable)).status).toBe(
        200,
      );
      await signInWithPastedToken(token);
      await page.goto(`${server.url}/requests/+new`);
      await page.getByLabel('Subject id (as in the telemetry)').fill(subject);
      await page.getByRole('button', { name: 'File dsar request' }).click();
      await page.getByRole('heading', { level: 1, name: /^Request / }).waitFor();
      const id = decodeURIComponent(page.url().split('/requests/')[1] ?? '');
      const read = async () =>
        (await api(server.url, token, 'GET', `/v1/requests/${id}`)).body as {
          status: string;
          statusReason?: string;
          tasks: { task: number; target: string; state: string; attempts: number }[];
        };

      // The deadline, extended once with the legal reason: the new due date shows with it.
      await page.getByRole('button', { name: 'Extend the deadline' }).click();
      const extend = page.getByRole('dialog', { name: 'Extend the deadline' });
      await extend.getByLabel('Legal reason').fill('Art. 12(3): the request spans many systems');
      await extend.getByRole('button', { name: 'Extend' }).click();
      await page
        .getByTestId('request-due')
        .getByText(/extended on .*Art\. 12\(3\)/)
        .waitFor();
      await page.getByRole('button', { name: 'Extend the deadline' }).waitFor({ state: 'detached' });

      // The payments team's ticket: two records typed in as JSON and a file.
      const ticket = page.locator('li.task').filter({ hasText: 'payments-ticket' });
      await ticket.getByText('waiting').waitFor({ timeout: 30_000 });
      await ticket.getByLabel('Records found (JSON)').fill('[{"fields": {"note": "not JSON"');
      await ticket.getByRole('button', { name: 'Mark ticket done' }).click();
      expect(await ticket.getByRole('alert').textContent()).toContain('not valid JSON');
      await ticket.getByLabel('Records found (JSON)').fill(
        JSON.stringify([
          { dataset: 'refunds', pk: 'rf-7', fields: { amount: '12.50', reason: 'parcel lost' } },
          { dataset: 'refunds', pk: 'rf-9', fields: { amount: '3.20', reason: 'late delivery' } },
        ]),
      );
      await ticket.getByLabel('File for the person (at most 5 MiB)').setInputFiles({
        name: 'payments-export.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from('refund,amount\nrf-7,12.50\n'),
      });
      await ticket.getByRole('button', { name: 'Mark ticket done' }).click();
      await ticket.getByText('done', { exact: true }).waitFor();
      // The other teams' tickets: done with nothing found.
      const tickets = page.locator('form.ticket-form');
      for (let open = await tickets.count(); open > 0; open -= 1) {
        await tickets.first().getByRole('button', { name: 'Mark ticket done' }).click();
        await expect.poll(() => tickets.count()).toBe(open - 1);
      }

      // The unreachable accounts client fails its five attempts; the request fails with it.
      const client = page.locator('li.task').filter({ hasText: 'accounts-privacy' });
      await expect.poll(async () => (await read()).status, { timeout: 90_000 }).toBe('failed');
      await page.getByTestId('request-status').getByText('failed').waitFor();
      const accounts = (await read()).tasks.find((task) => task.target === 'accounts-privacy');
      expect(accounts).toMatchObject({ state: 'failed', attempts: 5 });
      await screenshot(page, '15-request-failed');

      // Retried: it runs again with a fresh budget, and fails again.
      await client.getByRole('button', { name: `Retry task ${accounts?.task}` }).click();
      await expect.poll(async () => (await read()).status).toBe('in_progress');
      await expect
        .poll(async () => (await read()).tasks.find((task) => task.target === 'accounts-privacy')?.attempts, {
          timeout: 90_000,
        })
        .toBe(10);
      await page.getByTestId('request-status').getByText('failed').waitFor({ timeout: 30_000 });

      // Skipped with a reason: the request completes, saying which system it skipped and why.
      await client.getByRole('button', { name: `Skip task ${accounts?.task}` }).click();
      const skip = page.getByRole('dialog', { name: 'Skip accounts-privacy' });
      await skip.getByRole('button', { name: 'Skip' }).click();
      // A reason is required: nothing is sent without one.
      expect((await read()).status).toBe('failed');
      await skip.getByLabel('Reason').fill('Accounts answered by letter on 2026-12-01');
      await skip.getByRole('button', { name: 'Skip' }).click();
      await page.getByTestId('request-status').getByText('completed').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('request-status').textContent()).toContain(
        'skipped: accounts-privacy (Accounts answered by letter on 2026-12-01)',
      );
      expect(await client.textContent()).toContain('Skipped by');
      await screenshot(page, '16-request-skipped');

      // The package holds the ticket's records and its file, and names the skipped system.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: /Download the person’s package/ }).click(),
      ]);
      const html = readFileSync(await download.path(), 'utf8');
      expect(html).toContain('payments-ticket/refunds');
      expect(html).toContain('parcel lost');
      expect(html).toContain('late delivery');
      expect(html).toContain('download="payments-export.csv"');
      expect(html).toContain('Systems not searched');
      expect(html).toContain('Accounts answered by letter on 2026-12-01');
      expect(errors).toEqual([]);

      // An auditor reads the request but is offered none of the steps.
      // The session lives in sessionStorage: emptied, the dashboard asks for a token again.
      await page.evaluate('sessionStorage.clear()');
      await signInWithPastedToken(await mint('auditor'));
      const other = await mint('dpo');
      const open = (
        await api(server.url, other, 'POST', '/v1/requests', {
          type: 'delete',
          identifiers: { subject },
        })
      ).body as { id: string };
      await page.goto(`${server.url}/requests/${encodeURIComponent(open.id)}`);
      await page.getByTestId('request-summary').waitFor();
      await page.locator('li.task').first().waitFor({ timeout: 30_000 });
      expect(
        await page
          .getByRole('button', {
            name: /Cancel the request|Extend the deadline|Skip task|Retry task|done by hand/,
          })
          .count(),
      ).toBe(0);
    },
  );

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
