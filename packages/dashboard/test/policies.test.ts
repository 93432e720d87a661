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

/** The policies page: creating, previewing a retention change, retiring; and who may. */

openDemoDashboard();

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
    await page.getByLabel('Reason for the change').fill('Tickets are closed within a year');
    await save.click();
    await page.getByTestId('policy-outcome').getByText('Saved version 2').waitFor();
    await page.getByTestId('policy-status').getByText('Version 2, active').waitFor();
    const changed = (await api(server.url, token, 'GET', '/v1/policies/support-tickets')).body;
    expect(changed).toMatchObject({ retention: 'P12M', version: 2 });
    // The history is read again once the new version shows.
    await page.getByRole('row').filter({ hasText: 'P18M' }).waitFor();
    expect(await page.getByRole('row').filter({ hasText: 'P18M' }).count()).toBe(1);

    await page.getByRole('button', { name: 'Retire this policy…' }).click();
    // Retiring needs a reason, as the server does: the button waits for one.
    const retire = page.getByRole('button', { name: 'Retire support-tickets' });
    expect(await retire.isDisabled()).toBe(true);
    await page
      .getByLabel('Reason (kept in the history and the audit log)')
      .fill('Support moved to the new helpdesk');
    await retire.click();
    await page
      .getByTestId('policy-status')
      .getByText(/retired since/)
      .waitFor();
    const retired = (await api(server.url, token, 'GET', '/v1/policies/support-tickets')).body;
    expect(retired).toMatchObject({ status: 'retired' });
    const versions = (await api(server.url, token, 'GET', '/v1/policies/support-tickets/versions')).body as {
      items: { status: string; reason?: string }[];
    };
    expect(versions.items.at(-1)).toMatchObject({
      status: 'retired',
      reason: 'Support moved to the new helpdesk',
    });
    await page.getByRole('row').filter({ hasText: 'Support moved to the new helpdesk' }).waitFor();
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

  it('changes what a policy counts from: previewed first, saved, shown in words', async () => {
    const token = await mint('dpo');
    const created = await api(server.url, token, 'PUT', '/v1/policies/aging-demo', {
      purpose: 'essential.account',
      retention: 'P1Y',
      legalBasis: 'contract',
    });
    expect(created.status).toBe(201);
    await signInWithPastedToken(token);
    await page.goto(`${server.url}/policies/aging-demo`);
    expect(await page.getByTestId('policy-aging').textContent()).toContain('counted from the last use');
    await page.getByLabel('Counts from').selectOption('event');
    await page.getByLabel('Event name').fill('account-closed');
    const save = page.getByRole('button', { name: 'Save', exact: true });
    expect(await save.isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Preview the change' }).click();
    await page.getByTestId('retention-preview').waitFor();
    await page.getByLabel('Reason for the change').fill('Kept until the account closes');
    await save.click();
    await page.getByTestId('policy-status').getByText('Version 2, active').waitFor();
    expect(await page.getByTestId('policy-aging').textContent()).toContain('the event account-closed');
    const changed = (await api(server.url, token, 'GET', '/v1/policies/aging-demo')).body;
    expect(changed).toMatchObject({ since: 'event:account-closed', version: 2 });
    expect(errors).toEqual([]);
  });

  it('shortens a demo policy: due at once shown and confirmed, a reason given, the outcome kept, the reason in the history', async () => {
    const token = await mint('dpo');
    await signInWithPastedToken(token);
    await page.goto(`${server.url}/policies/order-delivery`);
    await page.getByLabel('Retention').fill('P30D');
    await page.getByRole('button', { name: 'Preview the change' }).click();
    const shown = page.getByTestId('retention-preview');
    await shown.waitFor();
    const expected = (
      await api(server.url, token, 'POST', '/v1/policies/order-delivery/preview', { retention: 'P30D' })
    ).body as { dueAtOnce: number; subjectFieldsChanged: number };
    expect(expected.dueAtOnce).toBeGreaterThan(0);
    const dueText = `${expected.dueAtOnce.toLocaleString('en-US')} field${expected.dueAtOnce === 1 ? '' : 's'} due at once`;
    expect(await shown.textContent()).toContain(dueText);

    // The server refuses a change without a reason; the form says so before sending.
    const save = page.getByRole('button', { name: 'Save', exact: true });
    const reason = page.getByLabel('Reason for the change');
    expect(await reason.getAttribute('required')).not.toBeNull();
    await reason.fill('Orders are delivered within a month (DPA review 2026)');
    await save.click();
    // N > 0: a confirmation first, nothing saved yet.
    const question = page.getByRole('alertdialog');
    expect(await question.textContent()).toContain(`Saving makes ${dueText.replace(' at once', '')}`);
    expect((await api(server.url, token, 'GET', '/v1/policies/order-delivery')).body).toMatchObject({
      retention: 'P120D',
    });
    await screenshot(page, '10b-policy-due-at-once');
    await question.getByRole('button', { name: /^Save and make/ }).click();

    const outcome = page.getByTestId('policy-outcome');
    await outcome.getByText('Saved version 2').waitFor();
    await page.getByTestId('policy-status').getByText('Version 2, active').waitFor();
    expect(await outcome.textContent()).toContain('Retention: P120D → P30D');
    expect(await outcome.textContent()).toContain(dueText);
    // The recompute job is followed to its end, and the outcome is still there.
    await outcome
      .getByTestId('policy-outcome-job')
      .getByText(/: done, /)
      .waitFor();
    expect(await outcome.textContent()).toContain('Reason: Orders are delivered within a month');
    const history = page.getByRole('row').filter({ hasText: 'P30D' });
    await history.waitFor();
    expect(await history.textContent()).toContain('Orders are delivered within a month (DPA review 2026)');
    await screenshot(page, '10c-policy-outcome');
    await outcome.getByRole('button', { name: 'Dismiss' }).click();
    expect(await page.getByTestId('policy-outcome').count()).toBe(0);
    const versions = (await api(server.url, token, 'GET', '/v1/policies/order-delivery/versions')).body as {
      items: { version: number; reason?: string }[];
    };
    expect(versions.items.at(-1)).toMatchObject({
      version: 2,
      reason: 'Orders are delivered within a month (DPA review 2026)',
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
    // No form to fill in for a refusal: the page says what the role cannot do.
    const refusal = page.getByTestId('role-cannot');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('Your role (auditor) cannot create policies');
    expect(await page.getByLabel('Name').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
