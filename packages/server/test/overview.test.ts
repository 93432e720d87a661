import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LETHE_ITSELF, type Principal } from '../src/auth/principal.js';
import type { Services } from '../src/services.js';
import { ALL_BACKENDS, availableBackends, openServices } from './support/backends.js';
import { loadFixtures, usage } from './support/fixtures.js';

const available = await availableBackends();
const admin = LETHE_ITSELF;
const DAY_MS = 86_400_000;

const dayOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);
const ago = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();

/** The dashboard's overview counts, on every backend, against data whose answer is known. */
describe.each(ALL_BACKENDS)('overview: $name', (backend) => {
  const missing = !available.includes(backend);
  let services: Services;
  let dispose: () => Promise<void>;

  beforeEach(async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here');
    ({ services, dispose } = await openServices(backend));
    await loadFixtures(services);
    await services.policies.put(admin, 'trial', {
      purpose: 'essential.account',
      retention: 'P30D',
      legalBasis: 'contract',
    });
  });
  afterEach(async () => {
    if (missing) return;
    // Filing a request wakes the runner; let it finish before the store closes under it.
    await services.runner.stop();
    await dispose();
  });

  it('counts subjects, fields, systems, open and overdue requests, and expiries per day', async () => {
    const fiveDaysAgo = ago(5);
    const result = await services.telemetry.ingest(admin, [
      // Two people expire on the same day (25 days from now), one five days later.
      usage('u-a', 'trial', ['accounts.email', 'accounts.name'], fiveDaysAgo),
      usage('u-b', 'trial', ['accounts.name'], fiveDaysAgo),
      usage('u-c', 'trial', ['accounts.email'], ago(0.5)),
      // Already expired (ten days ago) and far in the future (two years): outside the 90 days.
      usage('u-d', 'trial', ['accounts.email'], ago(40)),
      usage('u-e', 'user-account-access', ['accounts.email'], ago(1)),
    ]);
    expect(result.rejected).toEqual([]);
    // One late request (its one-month deadline long past) and one just in.
    await services.requests.create(admin, {
      type: 'dsar',
      identifiers: { email: 'late@example.com' },
      receivedAt: ago(60),
    });
    await services.requests.create(admin, { type: 'dsar', identifiers: { email: 'new@example.com' } });

    const overview = await services.overview.overview(admin);
    expect(overview.counts).toEqual({
      subjects: 5,
      fields: 3, // accounts.email, accounts.name, orders.address
      systems: 3,
      openRequests: 2,
      overdueRequests: 1,
      reappearances: 0,
      consentViolations: 0,
    });
    expect(overview.expiriesPerDay).toHaveLength(90);
    expect(overview.expiriesPerDay[0]?.day).toBe(dayOf(Date.now()));
    expect(overview.expiriesPerDay[89]?.day).toBe(dayOf(Date.now() + 89 * DAY_MS));
    const nonZero = overview.expiriesPerDay.filter((day) => day.fields > 0 || day.subjects > 0);
    expect(nonZero).toEqual([
      { day: dayOf(Date.parse(fiveDaysAgo) + 30 * DAY_MS), fields: 3, subjects: 2 },
      { day: dayOf(Date.parse(ago(0.5)) + 30 * DAY_MS), fields: 1, subjects: 1 },
    ]);
  });

  it('counts a field used again after its erasure as a re-appearance', async () => {
    await services.telemetry.ingest(admin, [usage('u-r', 'trial', ['accounts.email'], ago(3))]);
    await services.telemetry.ingest(admin, [usage('u-r', 'trial', ['accounts.name'], ago(3))]);
    await services.retention.recordErasure(admin, 'u-r', { system: 'accounts', at: ago(2) });
    // An erased field no longer expires, until it is used again.
    const erased = (await services.overview.overview(admin)).expiriesPerDay;
    expect(erased.reduce((sum, day) => sum + day.fields, 0)).toBe(0);
    await services.telemetry.ingest(admin, [usage('u-r', 'trial', ['accounts.email'], ago(1))]);
    const overview = await services.overview.overview(admin);
    expect(overview.counts.reappearances).toBe(1);
    expect(overview.expiriesPerDay.reduce((sum, day) => sum + day.fields, 0)).toBe(1);
  });

  it('counts uses without consent once per subject, policy and system', async () => {
    await services.consent.put(admin, 'u-g', { purposes: { 'marketing.email': true }, at: ago(10) });
    await services.telemetry.ingest(admin, [
      // Consented: not a violation.
      usage('u-g', 'send-marketing-email', ['accounts.email'], ago(5)),
      // Never consented: two mails are one violation (one counter), a third subject's mail another.
      usage('u-n', 'send-marketing-email', ['accounts.email'], ago(4)),
      usage('u-n', 'send-marketing-email', ['accounts.email'], ago(3)),
      usage('u-m', 'send-marketing-email', ['accounts.email'], ago(3)),
    ]);
    const overview = await services.overview.overview(admin);
    expect(overview.counts.consentViolations).toBe(2);
    const listed = await services.consent.violations(admin, {});
    expect(listed.items.map((item) => item.subject).sort()).toEqual(['u-m', 'u-n']);
  });

  it('is refused to a service and to a category-limited token', async () => {
    const service: Principal = { id: 'svc', role: 'service', system: 'accounts' };
    await expect(services.overview.overview(service)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const limited: Principal = { id: 'dpo', role: 'dpo', categories: ['user.contact'] };
    await expect(services.overview.overview(limited)).rejects.toMatchObject({
      code: 'CATEGORY_NOT_PERMITTED',
    });
  });
});
