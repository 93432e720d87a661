import type { SubjectConsent } from '@lethe/api';
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

/** The subject lookup: why we hold a subject's data, and what a subject without uses shows. */

openDemoDashboard();

describe('subject lookup', { timeout: 60_000 }, () => {
  it('answers "why do we hold this?" for the demo subject: the DESIGN.md §4 expiry and what decides it', async () => {
    await signInWithPastedToken(await mint('dpo'));
    await page.getByRole('link', { name: 'Subjects' }).click();
    await page.getByRole('heading', { level: 1, name: 'Subject lookup' }).waitFor();
    await page.getByLabel('Subject id').fill('u-1001');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Why do we hold u-1001?' }).waitFor();
    const expiry = page.getByTestId('subject-expiry');
    expect(await expiry.textContent()).toContain('Expired 2025-01-05');
    expect(await expiry.textContent()).toMatch(
      /Decided by accounts\.\w+ under policy user-account-access in system accounts/,
    );
    // Every field, with the order's shipping address expiring on its own (P120D) date.
    const address = page.getByRole('row').filter({ hasText: 'orders.shipping_address' });
    expect(await address.textContent()).toContain('2023-06-29');
    expect(await address.textContent()).toContain('order-delivery');
    expect(page.url()).toBe(`${server.url}/subjects/u-1001`);
    await screenshot(page, '06-subject');
    // The address is a page of its own: a reload (the server's page fallback) shows it again.
    await page.reload();
    await page.getByTestId('subject-expiry').waitFor();
    expect(errors).toEqual([]);
  });

  it('says so when the subject is unknown, and when an auditor lacks the subject-ids grant', async () => {
    await signInWithPastedToken(await mint('dpo'));
    await page.goto(`${server.url}/subjects/nobody-here`);
    expect(await page.getByRole('alert').textContent()).toContain('Not found');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInWithPastedToken(await mint('auditor'));
    await page.goto(`${server.url}/subjects/u-1001`);
    // Said before any read: the subject view answers only tokens that see real ids.
    const alert = page.getByTestId('role-cannot');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Your role (auditor) cannot look subjects up by id');
    expect(errors).toEqual([]);
  });

  it('keeps a subject whose id holds a dot and an "@" on a reload', async () => {
    const token = await mint('dpo');
    const subject = 'jane.doe@example.com';
    const recorded = await api(
      server.url,
      token,
      'PUT',
      `/v1/subjects/${encodeURIComponent(subject)}/consent`,
      {
        purposes: { 'marketing.email': true },
        source: 'signup-form',
      },
    );
    expect(recorded.status).toBe(200);
    await signInWithPastedToken(token);
    await page.getByRole('link', { name: 'Subjects' }).click();
    await page.getByLabel('Subject id').fill(subject);
    await page.keyboard.press('Enter');
    await page.getByTestId('consent-states').waitFor();
    expect(page.url()).toBe(`${server.url}/subjects/${encodeURIComponent(subject)}`);
    // The server's page fallback used to take the dot for a file name and answer 404 JSON.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: `Why do we hold ${subject}?` }).waitFor();
    await page.getByTestId('consent-states').waitFor();
    await page.goto(`${server.url}/subjects/${subject}`);
    await page.getByTestId('consent-states').waitFor();
    expect(errors).toEqual([]);
  });

  it('shows the consent of a subject Lethe has no uses of, saying so, instead of "Not found"', async () => {
    const token = await mint('dpo');
    const subject = 'consent-only-1';
    const recorded = await api(server.url, token, 'PUT', `/v1/subjects/${subject}/consent`, {
      purposes: { 'marketing.email': true },
      source: 'signup-form',
    });
    expect(recorded.status).toBe(200);
    // The API's two answers: no subject view (no telemetry), but a recorded grant.
    expect((await api(server.url, token, 'GET', `/v1/subjects/${subject}`)).status).toBe(404);
    const consent = (await api(server.url, token, 'GET', `/v1/subjects/${subject}/consent`))
      .body as SubjectConsent;
    expect(consent.history).toHaveLength(1);

    await signInWithPastedToken(token);
    await page.goto(`${server.url}/subjects/${subject}`);
    await page.getByTestId('consent-states').waitFor();
    expect(await page.getByTestId('consent-states').textContent()).toContain(
      `marketing.email granted since ${consent.history[0]!.at.slice(0, 10)}`,
    );
    expect(await page.getByTestId('consent-history').locator('tbody tr').count()).toBe(1);
    expect(await page.getByTestId('no-uses').textContent()).toContain(
      `Lethe has no recorded uses of ${subject}`,
    );
    expect(await page.getByText('Not found').count()).toBe(0);
    await screenshot(page, '07-subject-consent-only');
    // Neither uses nor consent: the plain answer.
    await page.getByLabel('Subject id').fill('nobody-at-all');
    await page.keyboard.press('Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Not found');
    expect(await page.getByTestId('consent-states').count()).toBe(0);
    expect(await page.getByTestId('no-uses').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
