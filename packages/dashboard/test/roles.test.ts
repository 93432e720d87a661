import type { RightsRequest } from '@lethe/api';
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

/**
 * What each role of the demo is offered (docs/dashboard.md "What each role sees"): the pages in
 * the navigation, the buttons on them, and what a page it cannot read says. An action a role may
 * not take is not rendered at all, so no role is offered a click the server would refuse.
 */

openDemoDashboard();

const EVERY_PAGE = [
  'Overview',
  'Subjects',
  'Policies',
  'Requests',
  'Data map',
  'Expiry calendar',
  'Legal holds',
  'Contracts',
  'Audit',
];
const ACTIONS =
  /^(New policy|New request|Save|Retire this policy…|Place a hold…|Download the person’s package)/;

async function navigationLinks(): Promise<string[]> {
  const navigation = page.getByRole('navigation', { name: 'Pages' });
  await navigation.getByRole('link').first().waitFor();
  return navigation.getByRole('link').allTextContents();
}

/** The actions offered on the page at `path` (titled `heading`) once it has loaded, by their buttons' names. */
async function actionsOn(path: string, heading: string | RegExp): Promise<string[]> {
  await page.goto(`${server.url}${path}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  await expect.poll(() => page.locator('.loading').count()).toBe(0);
  const names = await page.getByRole('button').allTextContents();
  return names.filter((name) => ACTIONS.test(name)).sort();
}

/** What a page the role cannot read says instead. */
async function refusalOn(path: string): Promise<string> {
  await page.goto(`${server.url}${path}`);
  const refusal = page.getByTestId('role-cannot');
  await refusal.waitFor();
  return (await refusal.textContent()) ?? '';
}

/** A DSAR completed by its tickets through the API, as the teams would: its package exists. */
async function completedDsar(): Promise<string> {
  const admin = await mint('admin');
  // Without the unreachable client, the accounts team gets a ticket like the payments team.
  await api(server.url, admin, 'DELETE', '/v1/clients/accounts-privacy');
  const filed = await api(server.url, admin, 'POST', '/v1/requests', {
    type: 'dsar',
    identifiers: { subject: 'u-2050' },
  });
  const id = (filed.body as RightsRequest).id;
  const path = `/v1/requests/${encodeURIComponent(id)}`;
  await expect
    .poll(
      async () => {
        const request = (await api(server.url, admin, 'GET', path)).body as RightsRequest;
        for (const task of request.tasks ?? []) {
          if (task.protocol === 'ticket' && task.state === 'waiting')
            await api(server.url, admin, 'POST', `${path}/tasks/${task.task}/complete`, { note: 'sent' });
        }
        return request.status;
      },
      { timeout: 30_000, interval: 500 },
    )
    .toBe('completed');
  return id;
}

describe('what each role sees', { timeout: 120_000 }, () => {
  it('offers an admin and a DPO every page and every action', async () => {
    for (const role of ['admin', 'dpo']) {
      if (role !== 'admin') await page.getByRole('button', { name: 'Sign out' }).click();
      await signInWithPastedToken(await mint(role));
      expect(await navigationLinks(), role).toEqual(EVERY_PAGE);
      expect(await actionsOn('/policies', 'Policies'), role).toEqual(['New policy']);
      expect(await actionsOn('/policies/order-delivery', 'Policy order-delivery'), role).toEqual([
        'Retire this policy…',
        'Save',
      ]);
      expect(await actionsOn('/requests', 'Requests'), role).toEqual(['New request']);
      expect(await actionsOn('/holds', 'Legal holds'), role).toEqual(['Place a hold…']);
    }
    expect(errors).toEqual([]);
  });

  it('offers an auditor no action and no subject lookup, and says so at their addresses', async () => {
    const dsar = await completedDsar();
    await signInWithPastedToken(await mint('auditor'));
    expect(await navigationLinks()).toEqual(EVERY_PAGE.filter((label) => label !== 'Subjects'));
    expect(await actionsOn('/policies', 'Policies')).toEqual([]);
    expect(await actionsOn('/policies/order-delivery', 'Policy order-delivery')).toEqual([]);
    expect(await page.getByRole('form', { name: /Change policy/ }).count()).toBe(0);
    expect(await actionsOn('/requests', 'Requests')).toEqual([]);
    expect(await actionsOn('/holds', 'Legal holds')).toEqual([]);
    // The completed DSAR: its report is the auditor's to read, the person's package is not.
    expect(await actionsOn(`/requests/${encodeURIComponent(dsar)}`, `Request ${dsar}`)).toEqual([]);
    expect(await page.getByRole('button', { name: 'Download report (CSV)' }).count()).toBe(1);
    expect(await page.getByText('package can be downloaded').count()).toBe(0);

    expect(await refusalOn('/subjects/u-1001')).toContain(
      'Your role (auditor) cannot look subjects up by id',
    );
    await screenshot(page, '30-role-cannot-auditor');
    expect(await refusalOn('/policies/+new')).toContain('Your role (auditor) cannot create policies');
    expect(await refusalOn('/requests/+new')).toContain('Your role (auditor) cannot file rights requests');
    // The way on is still there: the navigation and signing out.
    expect(await navigationLinks()).toContain('Audit');

    // With the subject-ids grant, the lookup is the auditor's too; still no action.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInWithPastedToken(await mint('auditor', '--grant', 'subject-ids'));
    expect(await navigationLinks()).toEqual(EVERY_PAGE);
    await page.goto(`${server.url}/subjects/u-1001`);
    await page.getByTestId('subject-expiry').waitFor();
    // Not the fields table's sortable "Expires" header: the action.
    expect(await page.getByRole('button', { name: /Expire fields now/ }).count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('offers a category-limited admin only what answers for its categories', async () => {
    const refused: string[] = [];
    page.on('response', (response) => {
      if (response.status() === 403) refused.push(response.url());
    });
    await signInWithPastedToken(await mint('admin', '--categories', 'user.contact'));
    // Rights requests and legal holds answer for every category: /v1/session leaves them out.
    expect(await navigationLinks()).toEqual(
      EVERY_PAGE.filter((label) => label !== 'Requests' && label !== 'Legal holds'),
    );
    expect(await actionsOn('/policies', 'Policies')).toEqual(['New policy']);
    await page.goto(`${server.url}/datamap`);
    await page.getByRole('heading', { level: 1, name: 'Data map' }).waitFor();
    await page.getByTestId('drift-limited').waitFor();
    await expect.poll(() => page.locator('.loading').count()).toBe(0);
    expect(await refusalOn('/requests')).toContain('limited to user.contact) cannot read rights requests');
    expect(await refusalOn('/holds')).toContain('cannot read legal holds');
    expect(refused).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('offers a system-scoped service token its read pages only', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('Token').fill(await mint('service'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    // A service reads the overview of its own system, so it lands there.
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    expect(await navigationLinks()).toEqual([
      'Overview',
      'Policies',
      'Data map',
      'Expiry calendar',
      'Contracts',
    ]);
    expect(await actionsOn('/policies', 'Policies')).toEqual([]);
    expect(await actionsOn('/policies/order-delivery', 'Policy order-delivery')).toEqual([]);
    // Its calendar goes without the overview's day grid, which it may not read: no refused call.
    await page.goto(`${server.url}/calendar`);
    await page.getByRole('heading', { level: 1, name: 'Expiry calendar' }).waitFor();
    await page
      .getByRole('button', { name: 'Download CSV' })
      .or(page.getByText('Nothing expires'))
      .first()
      .waitFor();
    expect(await refusalOn('/audit')).toContain('Your role (service) cannot read the audit log');
    expect(errors).toEqual([]);
  });
});
