import type { RequestInput, RightsRequest } from '@lethe/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import { DEMO_SUBJECT, demoActivity, loadDemoCompany } from '../src/demo/demo-company.js';
import {
  renderDsarPackageHtml,
  type DsarPackage,
  type LetheSubjectKnowledge,
} from '../src/requests/dsar-package.js';
import { forgetSubjectIn } from '../src/retention/retention-service.js';
import type { Services } from '../src/services.js';
import { availableBackends, openServices } from './support/backends.js';

/**
 * The Art. 15 answer from Lethe's own records (issue 15, item 6), on both store backends, with
 * the demo company: a DSAR package lists what Lethe knows of the subject; "We hold no records"
 * only when nothing is held anywhere; a completed delete forgets Lethe's own per-subject rows of
 * that subject and nobody else's, keeping the suppression hash, the consent history and the audit.
 */

const NOW = Date.parse('2024-09-01T12:00:00.000Z');
const backends = await availableBackends();

/** Runs the request's tasks; each ticket is marked done by its team with no records. */
async function finish(services: Services, input: RequestInput): Promise<RightsRequest> {
  const created = await services.requests.create(LETHE_ITSELF, input);
  for (let round = 0; round < 20; round += 1) {
    await services.runner.tick();
    const request = await services.requests.get(LETHE_ITSELF, created.id);
    if (request.status !== 'in_progress') return request;
    for (const task of request.tasks ?? []) {
      if (task.state === 'waiting') {
        await services.requests.completeTicket(LETHE_ITSELF, created.id, task.task, {
          note: 'nothing else held',
        });
      }
    }
  }
  throw new Error(`request ${created.id} did not finish`);
}

/** Every per-subject row of the demo's subjects, except those of `except`. */
async function perSubjectRows(services: Services, except: string) {
  const subjects = [...new Set(demoActivity(NOW).events.map((event) => event.subject))].filter(
    (subject) => subject !== except,
  );
  // Raw rows: the usage journal is folded first, as every read of the aggregates does.
  await services.store.freshAggregates();
  const repository = services.store.repository;
  return {
    usages: await repository.retention.usagesOfSubjects(subjects),
    fieldExpiries: await repository.retention.fieldExpiriesOfSubjects(subjects),
    subjectExpiries: await Promise.all(subjects.map((s) => repository.retention.getSubjectExpiry(s))),
    consent: await repository.consent.eventsOfSubjects(subjects),
    violations: (await repository.consent.violations({}, { limit: 100_000 })).filter(
      (v) => v.subject !== except,
    ),
  };
}

describe.each(backends.map((backend) => [backend.name, backend] as const))('on %s', (_name, backend) => {
  let services: Services;
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    ({ services, dispose } = await openServices(backend));
    expect(await loadDemoCompany(services, NOW)).toBe(true);
    // The demo's accounts team has an HTTP client nobody runs here: it gets a ticket instead.
    await services.datamap.removeClient(LETHE_ITSELF, 'accounts-privacy');
  });
  afterEach(async () => dispose());

  it('answers a DSAR for the demo subject with what Lethe itself knows', async () => {
    await services.retention.recordErasure(LETHE_ITSELF, DEMO_SUBJECT, {
      system: 'orders',
      fields: ['orders.items'],
      at: '2024-08-01T00:00:00.000Z',
    });
    const request = await finish(services, {
      id: 'dsar-demo',
      type: 'dsar',
      identifiers: { subject: DEMO_SUBJECT },
    });
    expect(request.status).toBe('completed');
    const dsar = await services.requestReports.dsarPackage(LETHE_ITSELF, 'dsar-demo');
    expect(dsar.sources).toEqual([]);
    expect(dsar.nothingHeld).toBe(false);
    const lethe = dsar.lethe as LetheSubjectKnowledge;
    expect(lethe.status).toBe('subject');
    expect(lethe.subject).toBe(DEMO_SUBJECT);

    // The fields held, with categories, holder, expiry and every use.
    expect(lethe.fields.map((field) => field.field)).toEqual([
      'accounts.email',
      'accounts.name',
      'accounts.password_hash',
      'campaigns.opens',
      'orders.items',
      'orders.shipping_address',
    ]);
    const email = lethe.fields.find((field) => field.field === 'accounts.email')!;
    expect(email).toMatchObject({
      categories: ['user.contact.email'],
      dataset: 'accounts',
      holder: 'accounts',
      expiresAt: '2025-01-05T10:00:00.000Z',
      policy: 'user-account-access',
    });
    expect(
      email.uses.map((use) => [use.policy, use.system, use.firstUseAt, use.lastUseAt, use.count]),
    ).toEqual([
      ['order-delivery', 'orders', '2023-03-01T14:00:00.000Z', '2023-03-01T14:00:00.000Z', 1],
      ['send-marketing-email', 'mailer', '2023-04-03T09:00:00.000Z', '2024-06-03T09:00:00.000Z', 6],
      ['user-account-access', 'accounts', '2023-01-05T10:00:00.000Z', '2023-01-05T10:00:00.000Z', 1],
    ]);
    expect(lethe.fields.find((field) => field.field === 'orders.items')).toMatchObject({
      erasedAt: '2024-08-01T00:00:00.000Z',
      expiresAt: '2023-06-29T14:00:00.000Z',
    });
    expect(lethe.expiry).toEqual({
      expiresAt: '2025-01-05T10:00:00.000Z',
      field: 'accounts.email',
      policy: 'user-account-access',
      system: 'accounts',
    });

    // Purposes and legal bases of the policies used.
    expect(lethe.purposes.map((p) => [p.policy, p.purpose, p.legalBasis, p.retention]).sort()).toEqual([
      ['order-delivery', 'essential.orders', 'contract', 'P120D'],
      ['send-marketing-email', 'marketing.email', 'consent', 'P6M'],
      ['user-account-access', 'essential.account', 'contract', 'P2Y'],
    ]);
    expect(lethe.purposes.find((p) => p.policy === 'send-marketing-email')?.fields).toEqual([
      'accounts.email',
      'campaigns.opens',
    ]);

    // Recipients: the declared flows out of the holding systems that carry the subject's data.
    expect(lethe.recipients.map((r) => [r.from, r.to, r.team, r.thirdParty, r.categories])).toEqual([
      ['accounts', 'mailer', 'growth', false, ['user.contact.email', 'user.name']],
      ['accounts', 'risk', 'trust', false, ['user.contact.email']],
      ['orders', 'payments', 'commerce', true, ['user.contact.address']],
      ['orders', 'warehouse', 'data', false, ['user.behavior.purchase_history']],
    ]);
    expect(lethe.recipients.find((r) => r.to === 'payments')).toMatchObject({
      country: 'US',
      safeguards: 'SCC 2021/914 module 2',
    });

    // Where it lives, and the erasure already confirmed.
    expect(
      lethe.sources.map((s) => [s.system, s.team, s.usedOnly, s.datasets.map((d) => d.dataset)]),
    ).toEqual([
      ['accounts', 'identity', false, ['accounts']],
      ['mailer', 'growth', false, ['campaigns']],
      ['orders', 'commerce', false, ['orders']],
    ]);
    expect(lethe.erasures).toEqual([
      {
        field: 'orders.items',
        system: 'orders',
        erasedAt: '2024-08-01T00:00:00.000Z',
        recordedAt: expect.any(String),
      },
    ]);

    // The consent history with its proof.
    expect(lethe.consent.purposes['marketing.email']).toMatchObject({
      granted: false,
      withdrawnAt: '2024-05-20T08:30:00.000Z',
    });
    expect(
      lethe.consent.history.map((c) => [
        c.purpose,
        c.granted,
        c.at,
        c.method,
        c.channel,
        c.source,
        c.notice,
        c.noticeVersion,
      ]),
    ).toEqual([
      [
        'marketing.email',
        true,
        '2023-01-05T10:00:00.000Z',
        'checkbox',
        'web',
        'signup-page',
        'https://metronome.example/privacy',
        'v1',
      ],
      [
        'marketing.email',
        false,
        '2024-05-20T08:30:00.000Z',
        'unsubscribe-link',
        'email',
        'mailer',
        'https://metronome.example/privacy',
        'v1',
      ],
    ]);

    // The page a person reads says the same, and never "we hold no records".
    const html = renderDsarPackageHtml(dsar);
    expect(html).toContain('What our privacy records say about you');
    expect(html).toContain('2025-01-05T10:00:00.000Z');
    expect(html).toContain('Quarterly marketing email to subscribers.');
    expect(html).toContain('unsubscribe-link');
    expect(html).toContain('SCC 2021/914 module 2');
    expect(html).not.toContain('We hold no records');
  });

  it('says what each retention counts from, and that a field waiting for an event is kept until it happens', async () => {
    await services.policies.put(LETHE_ITSELF, 'account-closure', {
      purpose: 'essential.account',
      retention: 'P1Y',
      legalBasis: 'legal_obligation',
      since: 'event:account-closed',
    });
    await services.telemetry.ingest(LETHE_ITSELF, [
      {
        id: 'closure-use',
        subject: DEMO_SUBJECT,
        system: 'accounts',
        policy: 'account-closure',
        fields: ['accounts.name'],
        at: '2024-08-30T00:00:00.000Z',
      },
    ]);
    await finish(services, { id: 'dsar-waiting', type: 'dsar', identifiers: { subject: DEMO_SUBJECT } });
    const dsar = await services.requestReports.dsarPackage(LETHE_ITSELF, 'dsar-waiting');
    const lethe = dsar.lethe as LetheSubjectKnowledge;
    expect(lethe.expiry).toMatchObject({ field: 'accounts.name', waitingFor: 'account-closed' });
    expect(lethe.fields.find((field) => field.field === 'accounts.name')?.waitingFor).toBe('account-closed');
    expect(lethe.purposes.find((p) => p.policy === 'account-closure')?.since).toBe('event:account-closed');
    const html = renderDsarPackageHtml(dsar);
    // Not a date in the year 9999, and not "after the last use" for a policy that counts otherwise.
    expect(html).not.toContain('9999');
    expect(html).toContain('Some of it is kept until <strong>account-closed</strong> happens');
    expect(html).toContain('once account-closed happens, then per the policy');
    expect(html).toContain('<td>P1Y from account-closed</td>');
    expect(html).toContain('<td>P2Y from the last use</td>');
  });

  it('seals the snapshot under the request key and destroys it with the findings', async () => {
    await finish(services, { id: 'dsar-sealed', type: 'dsar', identifiers: { subject: DEMO_SUBJECT } });
    const row = await services.store.repository.requests.getRequest('dsar-sealed');
    expect(row?.knowledge_sealed).toMatch(/\S/);
    expect(row?.knowledge_sealed).not.toContain('accounts.email');
    expect(row?.knowledge_sealed).not.toContain(DEMO_SUBJECT);
    // Taken at completion: later telemetry does not change the answer.
    await services.telemetry.ingest(LETHE_ITSELF, [
      {
        id: 'after-completion',
        subject: DEMO_SUBJECT,
        system: 'risk',
        policy: 'fraud-prevention',
        fields: ['risk_signals.ip_address'],
        at: '2024-08-30T00:00:00.000Z',
      },
    ]);
    const before = await services.requestReports.dsarPackage(LETHE_ITSELF, 'dsar-sealed');
    expect((before.lethe as LetheSubjectKnowledge).fields.map((f) => f.field)).not.toContain(
      'risk_signals.ip_address',
    );
    await services.requests.markDelivered(LETHE_ITSELF, 'dsar-sealed');
    expect((await services.store.repository.requests.getRequest('dsar-sealed'))?.knowledge_sealed).toBeNull();
    await expect(services.requestReports.dsarPackage(LETHE_ITSELF, 'dsar-sealed')).rejects.toMatchObject({
      code: 'PII_DESTROYED',
    });
  });

  it('says "We hold no records" only for a subject unknown everywhere', async () => {
    const request = await finish(services, {
      id: 'dsar-nobody',
      type: 'dsar',
      identifiers: { subject: 'u-nobody' },
    });
    expect(request.status).toBe('completed');
    const dsar: DsarPackage = await services.requestReports.dsarPackage(LETHE_ITSELF, 'dsar-nobody');
    expect(dsar.sources).toEqual([]);
    expect(dsar.lethe).toMatchObject({ status: 'subject', subject: 'u-nobody', fields: [], purposes: [] });
    expect(dsar.nothingHeld).toBe(true);
    expect(renderDsarPackageHtml(dsar)).toContain('We hold no records about you in the systems searched.');
  });

  it('says so when the request names no subject id, rather than guessing one', async () => {
    const request = await finish(services, {
      id: 'dsar-email',
      type: 'dsar',
      identifiers: { email: 'nobody@example.com' },
    });
    expect(request.status).toBe('completed');
    const dsar = await services.requestReports.dsarPackage(LETHE_ITSELF, 'dsar-email');
    expect(dsar.lethe).toEqual({ status: 'no-subject-id' });
    expect(dsar.nothingHeld).toBe(false);
    const html = renderDsarPackageHtml(dsar);
    expect(html).toContain('This request named no subject id');
    expect(html).toContain('The systems searched returned no records about you.');
    expect(html).not.toContain('We hold no records');
  });

  it('forgets Lethe’s own rows of the subject on a completed delete, and nobody else’s', async () => {
    const others = await perSubjectRows(services, DEMO_SUBJECT);
    const repository = services.store.repository;
    expect((await repository.retention.usagesOfSubjects([DEMO_SUBJECT])).length).toBeGreaterThan(0);
    expect((await repository.consent.violations({ subject: DEMO_SUBJECT }, { limit: 10 })).length).toBe(1);
    const consentBefore = await repository.consent.eventsOfSubjects([DEMO_SUBJECT]);
    expect(consentBefore).toHaveLength(2);

    const request = await finish(services, {
      id: 'delete-demo',
      type: 'delete',
      identifiers: { subject: DEMO_SUBJECT },
    });
    expect(request.status).toBe('completed');

    expect(await repository.retention.usagesOfSubjects([DEMO_SUBJECT])).toEqual([]);
    expect(await repository.retention.fieldExpiriesOfSubjects([DEMO_SUBJECT])).toEqual([]);
    expect(await repository.retention.getSubjectExpiry(DEMO_SUBJECT)).toBeUndefined();
    expect(await repository.retention.erasuresOf(DEMO_SUBJECT)).toEqual([]);
    expect(await repository.consent.violations({ subject: DEMO_SUBJECT }, { limit: 10 })).toEqual([]);
    // Kept: the consent history (Art. 7(1) proof), the suppression hash, the audit trail.
    expect(await repository.consent.eventsOfSubjects([DEMO_SUBJECT])).toEqual(consentBefore);
    expect([...(await repository.requests.suppressionList()).values()]).toEqual(['delete-demo']);
    const audit = await repository.audit.entries(0, 100_000);
    const forget = audit.filter((entry) => entry.action === 'subject.forget');
    expect(forget.map((entry) => entry.target)).toEqual([
      'request:delete-demo usages=8 field_expiries=6 subject_expiries=1 erasures=0 consent_violations=1',
    ]);
    expect(forget[0]?.target).not.toContain(DEMO_SUBJECT);
    expect(
      audit.some(
        (entry) => entry.action === 'request.complete' && entry.target.startsWith('request:delete-demo'),
      ),
    ).toBe(true);
    // Every other subject's rows are exactly as they were.
    expect(await perSubjectRows(services, DEMO_SUBJECT)).toEqual(others);
    // The subject view now has nothing to say.
    await expect(services.retention.subject(LETHE_ITSELF, DEMO_SUBJECT)).rejects.toMatchObject({
      code: 'SUBJECT_NOT_FOUND',
    });

    // Idempotent: forgetting again deletes nothing and says so.
    const again = await services.store.transaction((r) =>
      forgetSubjectIn(r, LETHE_ITSELF, DEMO_SUBJECT, 'request:delete-demo'),
    );
    expect(again).toEqual({
      usages: 0,
      fieldExpiries: 0,
      subjectExpiries: 0,
      erasures: 0,
      consentViolations: 0,
    });
    expect(await perSubjectRows(services, DEMO_SUBJECT)).toEqual(others);
  });

  it('keeps Lethe’s rows on a delete_pii, which clears columns and not the person', async () => {
    await services.store.freshAggregates();
    const before = await services.store.repository.retention.usagesOfSubjects([DEMO_SUBJECT]);
    const request = await finish(services, {
      id: 'delete-pii-demo',
      type: 'delete_pii',
      identifiers: { subject: DEMO_SUBJECT },
    });
    expect(request.status).toBe('completed');
    expect(await services.store.repository.retention.usagesOfSubjects([DEMO_SUBJECT])).toEqual(before);
  });

  it('has run the tasks a wake took by the time tick() returns', async () => {
    // Creating the request starts it and wakes the runner: that pass takes the tasks, and a tick
    // that skipped them without waiting returned with every task still running.
    await services.requests.create(LETHE_ITSELF, {
      id: 'dsar-tick',
      type: 'dsar',
      identifiers: { subject: DEMO_SUBJECT },
    });
    await services.runner.tick();
    const request = await services.requests.get(LETHE_ITSELF, 'dsar-tick');
    expect(request.tasks?.length).toBeGreaterThan(0);
    expect(request.tasks?.filter((task) => task.state !== 'waiting')).toEqual([]);
  });
});
