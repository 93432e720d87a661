import type { PolicyInput } from '@lethe/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import { AppError } from '../src/lib/app-error.js';
import { auditRecord } from '../src/audit/audit-trail.js';
import { verifyAuditLog } from '../src/audit/audit-verification.js';
import type { Services } from '../src/services.js';
import { ALL_BACKENDS, availableBackends, openServices } from './support/backends.js';
import { loadFixtures, POLICIES, usage } from './support/fixtures.js';
import { waitFor } from './support/wait-for.js';

const available = await availableBackends();
const admin = LETHE_ITSELF;

/** The same behaviour, through the real store, on every backend. */
describe.each(ALL_BACKENDS)('store conformance: $name', (backend) => {
  const missing = !available.includes(backend);
  let services: Services;
  let dispose: () => Promise<void>;

  beforeEach(async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    ({ services, dispose } = await openServices(backend));
    await loadFixtures(services);
  });
  afterEach(async () => {
    if (!missing) await dispose();
  });

  const ingest = (...events: ReturnType<typeof usage>[]) => services.telemetry.ingest(admin, events);
  const subject = (id: string) => services.retention.subject(admin, id);

  it('computes the DESIGN.md §4 example: the subject expires 2025-01-05', async () => {
    const result = await ingest(
      usage('u-1', 'user-account-access', ['accounts.email', 'accounts.name'], '2023-01-05T10:00:00Z'),
      usage('u-1', 'order-delivery', ['orders.address', 'accounts.email'], '2023-03-01T14:00:00Z'),
    );
    expect(result).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
    const view = await subject('u-1');
    expect(view.expiresAt).toBe('2025-01-05T10:00:00.000Z');
    expect(view.decidedBy.policy).toBe('user-account-access');
    const address = view.fields.find((f) => f.field === 'orders.address');
    expect(address).toMatchObject({
      expiresAt: '2023-06-29T14:00:00.000Z',
      policy: 'order-delivery',
      system: 'orders',
    });
    const email = view.fields.find((f) => f.field === 'accounts.email');
    expect(email?.uses.map((u) => [u.policy, u.keepsUntil])).toEqual([
      ['order-delivery', '2023-06-29T14:00:00.000Z'],
      ['user-account-access', '2025-01-05T10:00:00.000Z'],
    ]);
  });

  it('keeps fields alive while a later use under a shorter policy ends later (consent standing)', async () => {
    // send-marketing-email is consent-based: it extends retention only while consent stands.
    await services.consent.put(admin, 'u-2', {
      purposes: { 'marketing.email': true },
      at: '2023-01-05T10:00:00Z',
    });
    await ingest(
      usage('u-2', 'user-account-access', ['accounts.email'], '2023-01-05T10:00:00Z'),
      usage('u-2', 'send-marketing-email', ['accounts.email'], '2024-10-01T09:00:00Z'),
    );
    const view = await subject('u-2');
    expect(view.expiresAt).toBe('2025-04-01T09:00:00.000Z');
    expect(view.decidedBy).toEqual({
      field: 'accounts.email',
      policy: 'send-marketing-email',
      system: 'mailer',
    });
  });

  it('is idempotent on event id, across batches and within one', async () => {
    const first = usage('u-3', 'user-account-access', ['accounts.email'], '2023-02-01T00:00:00Z');
    const second = usage('u-3', 'user-account-access', ['accounts.email'], '2023-03-01T00:00:00Z');
    expect(await ingest(first, second, first)).toEqual({ accepted: 2, duplicates: 1, rejected: [] });
    expect(await ingest(first, second)).toEqual({ accepted: 0, duplicates: 2, rejected: [] });
    const [email] = (await subject('u-3')).fields;
    expect(email?.uses[0]?.count).toBe(2);
  });

  it('folds out-of-order uses into first/last use, count and last system', async () => {
    await ingest(
      usage('u-4', 'order-delivery', ['orders.address'], '2023-05-01T00:00:00Z', 'orders'),
      usage('u-4', 'order-delivery', ['orders.address'], '2023-04-01T00:00:00Z', 'accounts'),
    );
    await ingest(usage('u-4', 'order-delivery', ['orders.address'], '2023-03-01T00:00:00Z', 'mailer'));
    const [address] = (await subject('u-4')).fields;
    expect(address?.uses).toEqual([
      expect.objectContaining({
        firstUseAt: '2023-03-01T00:00:00.000Z',
        lastUseAt: '2023-05-01T00:00:00.000Z',
        count: 3,
        system: 'orders',
      }),
    ]);
    expect(address?.expiresAt).toBe('2023-08-29T00:00:00.000Z');
  });

  it('previews, then applies, a retention change and recomputes field and subject expiries', async () => {
    await ingest(
      usage('u-5', 'user-account-access', ['accounts.email'], '2023-01-31T00:00:00Z'),
      usage('u-5', 'order-delivery', ['orders.address'], '2023-06-01T00:00:00Z'),
      usage('u-6', 'user-account-access', ['accounts.name'], '2023-03-15T00:00:00Z'),
    );
    const preview = await services.policies.preview(admin, 'user-account-access', { retention: 'P1M' });
    expect(preview).toMatchObject({
      subjectFieldsUsingPolicy: 2,
      subjectFieldsChanged: 2,
      subjectFieldsEarlier: 2,
      subjectFieldsLater: 0,
      earliestNewExpiry: '2023-02-28T00:00:00.000Z',
      latestNewExpiry: '2023-04-15T00:00:00.000Z',
    });
    expect((await subject('u-5')).expiresAt).toBe('2025-01-31T00:00:00.000Z'); // preview changed nothing

    const write = await services.policies.put(admin, 'user-account-access', {
      purpose: 'essential.account',
      retention: 'P1M',
      legalBasis: 'contract',
      reason: 'accounts kept one month',
    });
    expect(write).toMatchObject({
      created: false,
      // A background job (docs/retention.md, "Retention changes"); the answer waited for it to end.
      policy: { version: 2, retention: 'P1M', recompute: { state: 'done' } },
    });
    expect(await services.jobs.get(admin, write.policy.recompute?.job ?? '')).toMatchObject({
      state: 'done',
      result: { subjectFieldsChanged: 2 },
    });
    const u5 = await subject('u-5');
    expect(u5.fields.find((f) => f.field === 'accounts.email')?.expiresAt).toBe('2023-02-28T00:00:00.000Z');
    // The order now keeps the subject longest.
    expect(u5.expiresAt).toBe('2023-09-29T00:00:00.000Z');
    expect(u5.decidedBy).toMatchObject({ field: 'orders.address', policy: 'order-delivery' });
    const versions = await services.policies.versions(admin, 'user-account-access');
    expect(versions.map((v) => [v.version, v.retention])).toEqual([
      [1, 'P2Y'],
      [2, 'P1M'],
    ]);
    // New uses are computed with the new retention.
    await ingest(usage('u-7', 'user-account-access', ['accounts.email'], '2024-01-31T00:00:00Z'));
    expect((await subject('u-7')).expiresAt).toBe('2024-02-29T00:00:00.000Z');
  });

  it('does not version a policy that is put again unchanged', async () => {
    const again = await services.policies.put(admin, 'order-delivery', {
      purpose: 'essential.orders',
      retention: 'P120D',
      legalBasis: 'contract',
    });
    expect(again).toMatchObject({ created: false, policy: { version: 1 } });
  });

  it('rejects new uses of a retired policy and keeps the expiries it decided', async () => {
    await ingest(usage('u-8', 'order-delivery', ['orders.address'], '2023-01-01T00:00:00Z'));
    const retired = await services.policies.retire(admin, 'order-delivery', 'conformance');
    expect(retired).toMatchObject({ status: 'retired', version: 2 });
    const result = await ingest(usage('u-8', 'order-delivery', ['orders.address'], '2023-02-01T00:00:00Z'));
    expect(result.rejected).toEqual([expect.objectContaining({ index: 0, code: 'POLICY_RETIRED' })]);
    expect((await subject('u-8')).expiresAt).toBe('2023-05-01T00:00:00.000Z');
  });

  it('serves the expiry feed by day and range, filtered, paginated and streamed alike', async () => {
    const events = [];
    for (let i = 0; i < 30; i += 1) {
      const day = String(1 + (i % 3)).padStart(2, '0');
      events.push(
        usage(
          `s-${String(i).padStart(2, '0')}`,
          'order-delivery',
          ['orders.address', 'accounts.email'],
          `2023-01-${day}T12:00:00Z`,
        ),
      );
    }
    events.push(usage('s-99', 'user-account-access', ['accounts.name'], '2022-05-02T08:00:00Z'));
    await ingest(...events);
    // 2023-01-01 + P120D = 2023-05-01
    const day = await services.retention.expiries(admin, { day: '2023-05-01' });
    expect(day.items).toHaveLength(20);
    expect(day.next).toBeUndefined();
    expect(day.items[0]).toEqual({
      subject: 's-00',
      field: 'accounts.email',
      expiresAt: '2023-05-01T12:00:00.000Z',
      policy: 'order-delivery',
      system: 'orders',
      status: 'due',
    });
    const bySystem = await services.retention.expiries(admin, { day: '2023-05-01', system: 'orders' });
    expect(bySystem.items.every((item) => item.field === 'orders.address')).toBe(true);
    expect(bySystem.items).toHaveLength(10);
    // mailer declares no dataset: its filter leaves no field, so nothing matches.
    expect(await services.retention.expiries(admin, { day: '2023-05-01', system: 'mailer' })).toEqual({
      items: [],
    });
    expect(
      await services.retention.expiries(admin, {
        day: '2023-05-01',
        system: 'orders',
        field: 'accounts.email',
      }),
    ).toEqual({
      items: [],
    });
    const byDataset = await services.retention.expiries(admin, { day: '2023-05-01', dataset: 'accounts' });
    expect(byDataset.items.every((item) => item.field === 'accounts.email')).toBe(true);
    const subjects = await services.retention.expiries(admin, {
      from: '2023-05-01',
      to: '2023-05-03',
      level: 'subject',
    });
    expect(subjects.items).toHaveLength(30);

    const paged = [];
    let cursor: string | undefined;
    do {
      const page = await services.retention.expiries(admin, {
        from: '2023-05-01',
        to: '2024-05-31',
        limit: 7,
        ...(cursor ? { cursor } : {}),
      });
      paged.push(...page.items);
      cursor = page.next;
    } while (cursor);
    expect(paged).toHaveLength(61);
    expect(new Set(paged.map((item) => `${item.subject}/${item.field}`)).size).toBe(61);
    expect(paged.at(-1)).toMatchObject({ subject: 's-99', expiresAt: '2024-05-02T08:00:00.000Z' });

    const streamed = [];
    for await (const item of await services.retention.streamExpiries(admin, {
      from: '2023-05-01',
      to: '2024-05-31',
    })) {
      streamed.push(item);
    }
    expect(streamed).toEqual(paged);
  });

  it('records erasures, drops erased fields from the feed and flags a re-appearance', async () => {
    await ingest(
      usage('u-9', 'order-delivery', ['orders.address', 'accounts.email'], '2023-01-01T00:00:00Z'),
    );
    const erasure = await services.retention.recordErasure(admin, 'u-9', {
      system: 'orders',
      at: '2023-05-02T00:00:00Z',
    });
    expect(erasure).toEqual({
      subject: 'u-9',
      system: 'orders',
      fields: ['orders.address'],
      erasedAt: '2023-05-02T00:00:00.000Z',
    });
    const feed = await services.retention.expiries(admin, { day: '2023-05-01' });
    expect(feed.items.map((item) => item.field)).toEqual(['accounts.email']);
    expect(await services.retention.reappearances(admin, undefined)).toEqual({ items: [] });

    // A use before the erasure arriving late is history, not a re-appearance.
    await ingest(usage('u-9', 'order-delivery', ['orders.address'], '2023-04-01T00:00:00Z'));
    expect((await services.retention.reappearances(admin, undefined)).items).toHaveLength(0);

    await ingest(usage('u-9', 'order-delivery', ['orders.address'], '2023-06-01T00:00:00Z'));
    const { items } = await services.retention.reappearances(admin, undefined);
    expect(items).toEqual([
      expect.objectContaining({
        subject: 'u-9',
        field: 'orders.address',
        reappearedAt: '2023-06-01T00:00:00.000Z',
      }),
    ]);
    const address = (await subject('u-9')).fields.find((f) => f.field === 'orders.address');
    expect(address).toMatchObject({
      erasedAt: '2023-05-02T00:00:00.000Z',
      reappearedAt: '2023-06-01T00:00:00.000Z',
    });
    await expect(services.retention.recordErasure(admin, 'u-9', { system: 'mailer' })).rejects.toMatchObject({
      code: 'NOTHING_TO_ERASE',
    });
    await expect(
      services.retention.recordErasure(admin, 'nobody', { system: 'orders' }),
    ).rejects.toMatchObject({
      code: 'SUBJECT_NOT_FOUND',
    });
  });

  it('refuses a batch validated against a catalog that changed before commit', async () => {
    const version = await services.store.repository.retention.catalogVersion();
    const outcome = await services.store.ingest({
      catalogVersion: version - 1,
      receivedAt: Date.now(),
      audit: auditRecord(admin, 'events.publish', 'events:1 system:accounts'),
      events: [
        {
          id: 'x',
          subject: 's',
          system: 'accounts',
          policy: 'order-delivery',
          fields: ['orders.address'],
          at: 0,
          keepsUntil: 1,
        },
      ],
    });
    expect(outcome).toEqual({ kind: 'stale-catalog' });
    await expect(subject('s')).rejects.toBeInstanceOf(AppError);
  });

  it('applies a retention change to every event acknowledged around it, none with the old retention', async () => {
    const at = '2023-01-01T00:00:00Z';
    const batch = (name: string) =>
      Array.from({ length: 25 }, (_, i) =>
        usage(`rr-${name}-${i}`, 'order-delivery', ['orders.address'], at),
      );
    const longer = { ...POLICIES['order-delivery'], retention: 'P1Y', reason: 'longer' } as PolicyInput;
    // Batches validated against the old catalog race the change: each is either folded before
    // it (and recomputed) or refused as stale and validated again, never appended after it.
    let changed = false;
    const change = services.policies.put(admin, 'order-delivery', longer).finally(() => (changed = true));
    const sent: string[] = [];
    const sender = async (k: number) => {
      for (let b = 0; !changed || b < 2; b += 1) {
        await services.telemetry.ingest(admin, batch(`${k}-${b}`));
        sent.push(`${k}-${b}`);
      }
    };
    const [write] = await Promise.all([change, sender(0), sender(1), sender(2)]);
    // The recompute runs as a job; PUT answers after at most its wait, so under load the job may
    // still be walking the batches folded before the change (docs/retention.md): wait for its end.
    const job = write.policy.recompute?.job ?? '';
    await waitFor(async () => (await services.jobs.get(admin, job)).state === 'done', 30_000);
    for (const name of sent) {
      expect((await subject(`rr-${name}-24`)).expiresAt, `batch ${name}`).toBe('2024-01-01T00:00:00.000Z');
    }
  });

  it('keeps datasets with one system and system puts idempotent', async () => {
    await expect(
      services.systems.put(admin, 'mailer', { team: 'growth', datasets: [{ name: 'orders', fields: [] }] }),
    ).rejects.toMatchObject({ code: 'DATASET_OWNED_ELSEWHERE' });
    const before = await services.systems.get(admin, 'orders');
    const again = await services.systems.put(admin, 'orders', {
      team: 'commerce',
      datasets: [{ name: 'orders', fields: [{ name: 'address', categories: ['user.contact.address'] }] }],
    });
    expect(again.system).toEqual(before);
  });

  it('loses no update when many batches touch the same subjects concurrently', async () => {
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 50 }, (_, i) =>
        usage(
          `c-${i % 10}`,
          'user-account-access',
          ['accounts.email', 'accounts.name'],
          `2023-01-${String(1 + b).padStart(2, '0')}T00:00:00Z`,
        ),
      ),
    );
    const results = await Promise.all(batches.map((events) => services.telemetry.ingest(admin, events)));
    expect(results.reduce((sum, r) => sum + r.accepted, 0)).toBe(400);
    const view = await subject('c-3');
    expect(view.fields.map((f) => f.uses[0]?.count)).toEqual([40, 40]);
    expect(view.expiresAt).toBe('2025-01-08T00:00:00.000Z');
  });

  it('chains audit entries from concurrent actions and ingest groups without a gap', async () => {
    const before = await verifyAuditLog(services.store.repository);
    expect(before.ok).toBe(true);
    await Promise.all([
      ...Array.from({ length: 6 }, (_, i) =>
        services.policies.put(admin, `audited-${i}`, {
          purpose: 'analytics.reporting',
          retention: 'P1Y',
          legalBasis: 'contract',
        }),
      ),
      ...Array.from({ length: 6 }, (_, i) =>
        ingest(usage(`a-${i}`, 'user-account-access', ['accounts.email'], '2023-01-01T00:00:00Z')),
      ),
      ...Array.from({ length: 4 }, (_, i) =>
        services.retention.subject(admin, `a-${i}`).catch(() => undefined),
      ),
    ]);
    // Ingest's entries are chained when its batches are folded (on SQLite; on append elsewhere).
    await services.store.freshAggregates();
    const after = await verifyAuditLog(services.store.repository);
    expect(after).toMatchObject({ ok: true, checked: before.checked + 16 });
    const entries = await services.store.repository.audit.entries(before.head.seq, 100);
    expect(entries.map((entry) => entry.seq)).toEqual(
      Array.from({ length: 16 }, (_, i) => before.head.seq + 1 + i),
    );
  });

  it('rolls an action back when its audit entry cannot be written', async () => {
    // Occupy the next sequence number behind the chain's back: the next append collides.
    const head = await services.store.repository.audit.head();
    const blocker = {
      seq: Number(head.seq) + 1,
      at: 0,
      actor: 'x',
      action: 'x',
      target: 'x',
      request_id: null,
      prev_hash: 'x',
      hash: 'x',
    };
    await services.store.repository.db.insertInto('audit_log').values(blocker).execute();
    const policy = { purpose: 'analytics.reporting', retention: 'P1Y', legalBasis: 'contract' } as const;
    await expect(services.policies.put(admin, 'unaudited', policy)).rejects.toMatchObject({
      code: 'AUDIT_FAILED',
    });
    const published = ingest(
      usage('unaudited', 'user-account-access', ['accounts.email'], '2023-01-01T00:00:00Z'),
    );
    // SQLite: the batch's entry is durable in the journal with its events and chained when they
    // are folded, so the append succeeds and the fold fails closed until the chain can grow.
    const chainedAtFold = backend.name === 'sqlite';
    if (chainedAtFold) {
      await expect(published).resolves.toMatchObject({ accepted: 1 });
      await expect(services.store.fold(1_000)).rejects.toMatchObject({ code: 'AUDIT_FAILED' });
    } else await expect(published).rejects.toMatchObject({ code: 'AUDIT_FAILED' });
    // Reads of subject data are audited too, so they fail closed as well.
    await expect(subject('unaudited')).rejects.toMatchObject({ code: 'AUDIT_FAILED' });

    await services.store.repository.db.deleteFrom('audit_log').where('seq', '=', blocker.seq).execute();
    await expect(services.policies.get(admin, 'unaudited')).rejects.toMatchObject({
      code: 'POLICY_NOT_FOUND',
    });
    if (chainedAtFold) expect((await subject('unaudited')).fields).toHaveLength(1);
    else await expect(subject('unaudited')).rejects.toMatchObject({ code: 'SUBJECT_NOT_FOUND' });
    await services.policies.put(admin, 'unaudited', policy);
    expect(await verifyAuditLog(services.store.repository)).toMatchObject({ ok: true });
  });
});
