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
    const fortyDaysAgo = ago(40);
    const result = await services.telemetry.ingest(admin, [
      // Two people expire on the same day (25 days from now), one five days later.
      usage('u-a', 'trial', ['accounts.email', 'accounts.name'], fiveDaysAgo),
      usage('u-b', 'trial', ['accounts.name'], fiveDaysAgo),
      usage('u-c', 'trial', ['accounts.email'], ago(0.5)),
      // Already expired (ten days ago) and far in the future (two years): outside the 90 days.
      usage('u-d', 'trial', ['accounts.email'], fortyDaysAgo),
      usage('u-e', 'user-account-access', ['accounts.email'], ago(1)),
    ]);
    expect(result.rejected).toEqual([]);
    // One late request (its one-month deadline long past), one due in a few days, one just in.
    await services.requests.create(admin, {
      type: 'dsar',
      identifiers: { email: 'late@example.com' },
      receivedAt: ago(60),
    });
    await services.requests.create(admin, {
      type: 'dsar',
      identifiers: { email: 'soon@example.com' },
      receivedAt: ago(26),
    });
    await services.requests.create(admin, { type: 'dsar', identifiers: { email: 'new@example.com' } });

    const overview = await services.overview.overview(admin);
    expect(overview.counts).toEqual({
      subjects: 5,
      fields: 3, // accounts.email, accounts.name, orders.address
      systems: 3,
      openRequests: 3,
      overdueRequests: 1,
      dueSoonRequests: 1,
      reappearances: 0,
      consentViolations: 0,
    });
    // u-d's email expired ten days ago (40 days ago + P30D): the one field past expiry.
    expect(overview.pastExpiry).toEqual([
      {
        system: 'accounts',
        fields: 1,
        subjects: 1,
        oldestExpiresAt: new Date(Date.parse(fortyDaysAgo) + 30 * DAY_MS).toISOString(),
        daysLate: 10,
        heldFields: 0,
      },
    ]);
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
    expect(overview.counts?.reappearances).toBe(1);
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
    expect(overview.counts?.consentViolations).toBe(2);
    const listed = await services.consent.violations(admin, {});
    expect(listed.items.map((item) => item.subject).sort()).toEqual(['u-m', 'u-n']);
  });

  it('counts fields past expiry per owning system, oldest first, held ones apart', async () => {
    const eightyDaysAgo = ago(80);
    await services.telemetry.ingest(admin, [
      // accounts: three fields of two people past expiry, the oldest 50 days late; one erased.
      usage('u-1', 'trial', ['accounts.email', 'accounts.name'], eightyDaysAgo),
      usage('u-2', 'trial', ['accounts.email'], ago(40)),
      usage('u-x', 'trial', ['accounts.name'], ago(35)),
      // orders: two people past expiry (five days), one of them held by name.
      usage('u-3', 'order-delivery', ['orders.address'], ago(125)),
      usage('u-held', 'order-delivery', ['orders.address'], ago(125)),
      // Not yet expired.
      usage('u-4', 'trial', ['accounts.email'], ago(1)),
    ]);
    await services.retention.recordErasure(admin, 'u-x', { system: 'accounts', at: ago(2) });
    await services.holds.put(admin, 'inquiry', { reason: 'tax inquiry', subjects: ['u-held'] });
    // A hold by category keeps every person's name, wherever it lives.
    await services.holds.put(admin, 'names', { reason: 'litigation', categories: ['user.name'] });
    const { pastExpiry } = await services.overview.overview(admin);
    expect(pastExpiry).toEqual([
      {
        system: 'accounts',
        fields: 2,
        subjects: 2,
        oldestExpiresAt: new Date(Date.parse(eightyDaysAgo) + 30 * DAY_MS).toISOString(),
        daysLate: 50,
        heldFields: 1,
      },
      {
        system: 'orders',
        fields: 1,
        subjects: 1,
        oldestExpiresAt: expect.any(String) as string,
        daysLate: 5,
        heldFields: 1,
      },
    ]);
    // Releasing the holds makes those fields due again.
    await services.holds.release(admin, 'names');
    await services.holds.release(admin, 'inquiry');
    const released = (await services.overview.overview(admin)).pastExpiry;
    expect(released.map((row) => [row.system, row.fields, row.heldFields])).toEqual([
      ['accounts', 3, 0],
      ['orders', 2, 0],
    ]);
  });

  it('answers with holds naming tens of thousands of subjects, in SQL or past its parameter limit alike', async () => {
    await services.telemetry.ingest(admin, [
      usage('u-3', 'order-delivery', ['orders.address'], ago(125)),
      usage('u-held', 'order-delivery', ['orders.address'], ago(125)),
    ]);
    const many = (prefix: string) => Array.from({ length: 10_000 }, (_, i) => `${prefix}-${i}`);
    // One hold of 10,000 subjects (the most a hold names): bound once, under SQLite's 32,766.
    await services.holds.put(admin, 'big-1', {
      reason: 'class action',
      subjects: ['u-held', ...many('a').slice(1)],
    });
    const expected = [{ system: 'orders', fields: 1, subjects: 1, heldFields: 1 }];
    const figures = async () =>
      (await services.overview.overview(admin)).pastExpiry.map(
        ({ system, fields, subjects, heldFields }) => ({
          system,
          fields,
          subjects,
          heldFields,
        }),
      );
    expect(await figures()).toEqual(expected);
    // Three such holds: more than one statement binds; matched outside SQL, the same answer.
    await services.holds.put(admin, 'big-2', { reason: 'class action', subjects: many('b') });
    await services.holds.put(admin, 'big-3', { reason: 'class action', subjects: many('c') });
    expect(await figures()).toEqual(expected);
    expect(await services.overview.fieldsPastExpiry(Date.now())).toEqual(new Map([['orders', 1]]));
  });

  it('shows a service its own system and a category-limited token its fields, without the counts', async () => {
    await services.telemetry.ingest(admin, [
      usage('u-1', 'trial', ['accounts.email', 'accounts.name'], ago(40)),
      usage('u-2', 'order-delivery', ['orders.address'], ago(125)),
      // Expires in five days (25 days ago + P30D).
      usage('u-3', 'trial', ['accounts.name'], ago(25)),
      usage('u-4', 'order-delivery', ['orders.address'], ago(100)),
    ]);
    const service: Principal = { id: 'svc', role: 'service', system: 'orders' };
    const ofOrders = await services.overview.overview(service);
    expect(ofOrders.counts).toBeUndefined();
    expect(ofOrders.pastExpiry.map((row) => [row.system, row.fields])).toEqual([['orders', 1]]);
    // u-4's address expires in 20 days: the service's calendar holds it, and nothing of accounts.
    expect(ofOrders.expiriesPerDay.filter((day) => day.fields > 0)).toEqual([
      { day: dayOf(Date.parse(ago(100)) + 120 * DAY_MS), fields: 1, subjects: 1 },
    ]);
    const limited: Principal = { id: 'dpo', role: 'dpo', categories: ['user.contact.email'] };
    const contact = await services.overview.overview(limited);
    expect(contact.counts).toBeUndefined();
    expect(contact.pastExpiry).toEqual([expect.objectContaining({ system: 'accounts', fields: 1 })]);
    expect(JSON.stringify(contact)).not.toMatch(/orders|accounts\.name/);
    // u-3's name (expiring in five days) is not a field this token may see.
    expect(contact.expiriesPerDay.every((day) => day.fields === 0)).toBe(true);
    const unrelated: Principal = { id: 'svc', role: 'service', system: 'mailer' };
    expect((await services.overview.overview(unrelated)).pastExpiry).toEqual([]);
  });
});
