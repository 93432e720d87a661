import type { ConsentViolationPage, Overview, SubjectConsent, SubjectRetention } from '@lethe/api';
import type { Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { api } from '../../server/test/support/lethe-process.js';
import { tcString } from '../../server/test/support/tc-strings.js';
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
 * Consent on the subject page and the overview: grants, withdrawals, TC strings, violations and
 * re-appearances.
 */

openDemoDashboard();

describe('consent', { timeout: 60_000 }, () => {
  /** `2024-05-20 08:30 UTC`, as the dashboard writes an instant where the minute matters. */
  const minute = (instant: string) => `${instant.slice(0, 10)} ${instant.slice(11, 16)} UTC`;
  const cellsOf = (row: Locator) => row.locator('td').allTextContents();

  it('shows u-1001’s newsletter grant, its withdrawal on 2024-05-20 and the mail after it, as the API records them', async () => {
    const token = await mint('dpo');
    const consent = (await api(server.url, token, 'GET', '/v1/subjects/u-1001/consent'))
      .body as SubjectConsent;
    const retention = (await api(server.url, token, 'GET', '/v1/subjects/u-1001')).body as SubjectRetention;
    const violations = (await api(server.url, token, 'GET', '/v1/consent/violations?subject=u-1001'))
      .body as ConsentViolationPage;
    expect(consent.purposes['marketing.email']).toMatchObject({
      granted: false,
      withdrawnAt: '2024-05-20T08:30:00.000Z',
    });

    await signInWithPastedToken(token);
    await page.goto(`${server.url}/subjects/u-1001`);
    const history = page.getByTestId('consent-history');
    await history.waitFor();
    expect(await page.getByTestId('consent-states').textContent()).toContain(
      'marketing.email withdrawn since 2024-05-20 08:30 UTC (granted 2023-01-05 10:00 UTC until then)',
    );
    // Every grant and withdrawal with its proof, newest first: the API's history reversed.
    const rows = await history.locator('tbody tr').all();
    const newestFirst = [...consent.history].reverse();
    expect(rows).toHaveLength(newestFirst.length);
    for (const [index, record] of newestFirst.entries()) {
      const [when, purpose, choice, source, method, channel, notice, url, recordedBy, tcString] =
        await cellsOf(rows[index]!);
      expect(when).toBe(minute(record.at));
      expect(purpose).toBe(record.purpose);
      expect(choice).toBe(record.granted ? 'granted' : 'withdrawn');
      expect([source, method, channel, url]).toEqual([
        record.source ?? '—',
        record.method ?? '—',
        record.channel ?? '—',
        record.url ?? '—',
      ]);
      expect(notice).toBe(`${record.notice} (version ${record.noticeVersion})`);
      expect(recordedBy).toBe(
        `${record.recordedBy.id} (${record.recordedBy.role})${minute(record.recordedAt)}`,
      );
      expect(tcString).toBe('—');
    }
    expect(await cellsOf(rows[0]!)).toEqual(
      expect.arrayContaining(['2024-05-20 08:30 UTC', 'withdrawn', 'mailer']),
    );
    expect(await cellsOf(rows[1]!)).toEqual(
      expect.arrayContaining(['2023-01-05 10:00 UTC', 'granted', 'checkbox']),
    );

    // The mail of 2024-06-03, after the withdrawal, is marked in the timeline wherever the API's
    // subject view shows a latest use that was not consented.
    const unconsented = retention.fields.flatMap((field) =>
      field.uses
        .filter(
          (use) =>
            use.consentPurpose !== undefined &&
            (use.lastConsentedUseAt === undefined || use.lastConsentedUseAt < use.lastUseAt),
        )
        .map((use) => `${field.field} ${use.lastUseAt.slice(0, 10)}`),
    );
    expect(unconsented).toContain('campaigns.opens 2024-06-03');
    const marked = page.getByTestId('timeline').locator('li.without-consent');
    const markedTexts = await marked.allTextContents();
    expect(
      markedTexts.map((text) => `${/[a-z]+\.[a-z_]+/.exec(text)?.[0]} ${text.slice(0, 10)}`).sort(),
    ).toEqual(unconsented.sort());
    expect(markedTexts[0]).toContain('without consent');
    expect(markedTexts[0]).toContain('the latest consented one: 2024-04-02');
    // …and listed as the violation the server recorded.
    expect(violations.items).toHaveLength(1);
    const violation = violations.items[0]!;
    expect(await cellsOf(page.getByTestId('subject-violations').locator('tbody tr'))).toEqual([
      violation.policy,
      violation.system,
      violation.purpose,
      violation.firstAt.slice(0, 10),
      violation.lastAt.slice(0, 10),
      String(violation.count),
    ]);
    await screenshot(page, '20-subject-consent');

    // A tablet: the wide history table scrolls inside its box, the page does not.
    await page.setViewportSize({ width: 820, height: 1180 });
    expect(
      await inPage<number>(page, 'document.documentElement.scrollWidth - window.innerWidth'),
    ).toBeLessThanOrEqual(0);
    await screenshot(page, '21-subject-consent-tablet');
    expect(errors).toEqual([]);
  });

  it('shows a TC string shortened, and its whole text on Enter', async () => {
    const token = await mint('dpo');
    const subject = 'u-2100';
    expect((await api(server.url, token, 'GET', `/v1/subjects/${subject}`)).status).toBe(200);
    const string = tcString({ purposeConsents: [1, 7, 8, 9], lastUpdated: '2024-03-04T00:00:00Z' });
    const recorded = await api(server.url, token, 'PUT', `/v1/subjects/${subject}/consent`, {
      tcString: string,
      channel: 'web',
    });
    expect(recorded.status).toBe(200);
    await signInWithPastedToken(token);
    await page.goto(`${server.url}/subjects/${subject}`);
    const rows = page.getByTestId('consent-history').locator('tbody tr');
    await rows.first().waitFor();
    const fromString = rows.filter({ hasText: 'tcf' });
    // One grant or withdrawal per mapped purpose (docs/consent.md), each carrying the string.
    expect(await fromString.count()).toBe(8);
    const analytics = rows.filter({ hasText: 'analytics.product' });
    expect(await cellsOf(analytics)).toEqual(
      expect.arrayContaining(['2024-03-04 00:00 UTC', 'granted', 'tcf', 'cmp:300 v7']),
    );
    const summary = analytics.locator('summary');
    expect(await summary.textContent()).toBe(`${string.slice(0, 16)}…`);
    const full = analytics.locator('details > code');
    expect(await full.isVisible()).toBe(false);
    // From the keyboard: the summary takes focus, Enter opens it, the whole string is there to copy.
    await summary.focus();
    await page.keyboard.press('Enter');
    await full.waitFor();
    expect(await full.textContent()).toBe(string);
    await screenshot(page, '22-subject-tc-string');
    expect(errors).toEqual([]);
  });

  it('lists the latest consent violations on the overview as the API does, linked to the subject', async () => {
    const token = await mint('dpo');
    const overview = (await api(server.url, token, 'GET', '/v1/overview')).body as Overview;
    const latest = (await api(server.url, token, 'GET', '/v1/consent/violations?limit=10'))
      .body as ConsentViolationPage;
    expect(overview.counts!.consentViolations, 'the demo has violations').toBeGreaterThan(
      latest.items.length,
    );
    await signInWithPastedToken(token);
    const rows = page.getByTestId('violations').locator('tbody tr');
    await rows.first().waitFor();
    const shown = await Promise.all((await rows.all()).map(cellsOf));
    expect(shown).toEqual(
      latest.items.map((item) => [
        item.subject,
        item.policy,
        item.system,
        item.lastAt.slice(0, 10),
        String(item.count),
      ]),
    );
    const count = await page.locator('[data-count="consentViolations"]').textContent();
    expect(count?.replace(/\D/g, '')).toBe(String(overview.counts!.consentViolations));
    await screenshot(page, '23-overview-violations');
    // A subject in the panel opens its page, with the use marked there.
    const first = latest.items[0]!;
    await rows.first().getByRole('link', { name: first.subject }).click();
    await page.getByRole('heading', { level: 1, name: `Why do we hold ${first.subject}?` }).waitFor();
    await page.getByTestId('timeline').locator('li.without-consent').first().waitFor();
    expect(errors).toEqual([]);
  });

  it('shows an auditor without the subject-ids grant the pseudonyms the API gives, not links; with the grant, ids', async () => {
    const auditor = await mint('auditor');
    const pseudonymised = (await api(server.url, auditor, 'GET', '/v1/consent/violations?limit=10'))
      .body as ConsentViolationPage;
    expect(pseudonymised.items.length).toBeGreaterThan(0);
    for (const item of pseudonymised.items) expect(item.subject).not.toMatch(/^u-/);
    await signInWithPastedToken(auditor);
    const panel = page.getByTestId('violations');
    await panel.locator('tbody tr').first().waitFor();
    expect(await panel.locator('tbody td:first-child').allTextContents()).toEqual(
      pseudonymised.items.map((item) => item.subject),
    );
    expect(await panel.getByRole('link').count()).toBe(0);
    expect(await panel.locator('caption').textContent()).toContain('pseudonymised');
    await screenshot(page, '24-overview-violations-auditor');
    await page.getByRole('button', { name: 'Sign out' }).click();

    const granted = await mint('auditor', '--grant', 'subject-ids');
    const withIds = (await api(server.url, granted, 'GET', '/v1/consent/violations?limit=10'))
      .body as ConsentViolationPage;
    await signInWithPastedToken(granted);
    await panel.getByRole('link').first().waitFor();
    expect(await panel.getByRole('link').allTextContents()).toEqual(
      withIds.items.map((item) => item.subject),
    );
    expect(errors).toEqual([]);
  });

  it('shows an auditor without the subject-ids grant re-appearances under the API’s pseudonyms, not links; with the grant, ids', async () => {
    // A field used again after its confirmed erasure: published, erased, published again.
    const admin = await mint('admin');
    const subject = `back-again-${process.pid}`;
    const use = (id: string, at: string) => ({
      events: [
        {
          id: `${subject}-${id}`,
          subject,
          system: 'orders',
          policy: 'order-delivery',
          fields: ['orders.shipping_address'],
          at,
        },
      ],
    });
    expect(
      (await api(server.url, admin, 'POST', '/v1/events', use('1', '2024-01-01T00:00:00Z'))).status,
    ).toBe(200);
    const erased = await api(server.url, admin, 'POST', `/v1/subjects/${subject}/erasures`, {
      system: 'orders',
      at: '2024-02-01T00:00:00Z',
    });
    expect(erased.status).toBe(200);
    expect(
      (await api(server.url, admin, 'POST', '/v1/events', use('2', '2024-03-01T00:00:00Z'))).status,
    ).toBe(200);

    const auditor = await mint('auditor');
    const pseudonymised = (await api(server.url, auditor, 'GET', '/v1/reappearances?limit=10')).body as {
      items: { subject: string }[];
    };
    expect(pseudonymised.items.length).toBeGreaterThan(0);
    expect(pseudonymised.items.map((item) => item.subject)).not.toContain(subject);
    await signInWithPastedToken(auditor);
    const panel = page.getByRole('region', { name: 'Re-appearances' });
    await panel.locator('tbody tr').first().waitFor();
    expect(await panel.locator('tbody td:first-child').allTextContents()).toEqual(
      pseudonymised.items.map((item) => item.subject),
    );
    expect(await panel.getByRole('link').count()).toBe(0);
    expect(await panel.locator('caption').textContent()).toContain('pseudonymised');
    await screenshot(page, '25-overview-reappearances-auditor');
    await page.getByRole('button', { name: 'Sign out' }).click();

    await signInWithPastedToken(await mint('auditor', '--grant', 'subject-ids'));
    await panel.getByRole('link').first().waitFor();
    expect(await panel.getByRole('link').allTextContents()).toContain(subject);
    expect(await panel.locator('caption').textContent()).not.toContain('pseudonymised');
    expect(errors).toEqual([]);
  });

  it('reaches the violations panel and a subject’s page from the keyboard', async () => {
    await signInWithPastedToken(await mint('dpo'));
    const firstLink = page.getByTestId('violations').getByRole('link').first();
    await firstLink.waitFor();
    const subject = await firstLink.textContent();
    // Tab through the page until the first subject link of the panel has focus, then follow it.
    for (let presses = 0; presses < 60; presses += 1) {
      await page.keyboard.press('Tab');
      if (await firstLink.evaluate((link) => link === link.ownerDocument.activeElement)) break;
    }
    expect(await firstLink.evaluate((link) => link === link.ownerDocument.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: `Why do we hold ${subject}?` }).waitFor();
    expect(await inPage(page, 'document.activeElement?.tagName')).toBe('H1');
    expect(errors).toEqual([]);
  });
});
