import type { ExpiryItem, PolicyInput, SystemInput, UsageEvent } from '@lethe/api';
import { LetheApiError, LetheClient, Publisher } from '@lethe/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { SYSTEMS } from './support/fixtures.js';

/** The SDK against the real server (HTTP on a real port, SQLite in a temp data dir), in-process. */

const ACCOUNT: PolicyInput = {
  purpose: 'essential.account',
  retention: 'P2Y',
  legalBasis: 'contract',
  description: 'A user signs in or updates their account.',
};
const ORDERS: PolicyInput = { purpose: 'essential.orders', retention: 'P120D', legalBasis: 'contract' };
const ACCOUNTS_SYSTEM: SystemInput = SYSTEMS['accounts']!;
const SHOP_SYSTEM: SystemInput = {
  team: 'commerce',
  description: 'Checkout and delivery.',
  datasets: [{ name: 'orders', fields: [{ name: 'address', categories: ['user.contact.address'] }] }],
};

/** Rejects with the LetheApiError the call threw, so its fields can be asserted. */
async function apiError(call: Promise<unknown>): Promise<LetheApiError> {
  const error: unknown = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(LetheApiError);
  return error as LetheApiError;
}

describe('SDK against the real server', () => {
  let location: Awaited<ReturnType<typeof SQLITE_BACKEND.create>>;
  let lethe: Lethe | undefined;
  let url: string;
  let client: LetheClient;

  /** Starts the server on the data dir; on `port` when given (a restart on the same address). */
  async function start(port = 0): Promise<void> {
    lethe = await createLethe({ dataDir: location.dataDir });
    url = await lethe.app.listen({ port, host: '127.0.0.1' });
  }
  async function stop(): Promise<void> {
    const running = lethe;
    lethe = undefined;
    await running?.close();
  }

  beforeEach(async () => {
    location = await SQLITE_BACKEND.create();
    await start();
    const { token } = await lethe!.tokens.mint({ subject: 'test', role: 'admin', ttlSeconds: 600 });
    client = new LetheClient({ url, token, timeoutMs: 10_000 });
  });
  afterEach(async () => {
    await stop();
    await location.dispose();
  });

  const usesOf = async (subject: string): Promise<number> =>
    (await client.getSubject(subject)).fields
      .flatMap((field) => field.uses)
      .reduce((sum, use) => sum + use.count, 0);

  it('round-trips policies, systems, events, preview, expiries, erasures and retirement', async () => {
    const account = await client.putPolicy('account', ACCOUNT);
    expect(account).toMatchObject({ name: 'account', ...ACCOUNT, version: 1, status: 'active' });
    await client.putPolicy('orders', ORDERS);
    expect(await client.getPolicy('account')).toEqual(account);
    expect((await client.listPolicies()).items.map((p) => p.name).sort()).toEqual(['account', 'orders']);

    const accounts = await client.putSystem('accounts', ACCOUNTS_SYSTEM);
    expect(accounts).toMatchObject({ name: 'accounts', ...ACCOUNTS_SYSTEM });
    await client.putSystem('shop', SHOP_SYSTEM);
    expect(await client.getSystem('accounts')).toEqual(accounts);
    expect((await client.listSystems()).items.map((s) => s.name).sort()).toEqual(['accounts', 'shop']);

    const events: UsageEvent[] = [
      {
        id: 'e1',
        subject: 'u-1',
        system: 'accounts',
        policy: 'account',
        fields: ['accounts.email', 'accounts.name'],
        at: '2023-01-05T10:00:00Z',
      },
      {
        id: 'e2',
        subject: 'u-1',
        system: 'shop',
        policy: 'orders',
        fields: ['orders.address', 'accounts.email'],
        at: '2023-03-01T14:00:00Z',
      },
      {
        id: 'e3',
        subject: 'u-2',
        system: 'accounts',
        policy: 'account',
        fields: ['accounts.email'],
        at: '2023-02-01T00:00:00Z',
      },
      {
        id: 'e4',
        subject: 'u-2',
        system: 'accounts',
        policy: 'no-such-policy',
        fields: ['accounts.email'],
        at: '2023-02-01T00:00:00Z',
      },
    ];
    expect(await client.publishEvents(events)).toEqual({
      accepted: 3,
      duplicates: 0,
      rejected: [{ index: 3, code: 'POLICY_NOT_FOUND', message: expect.any(String) }],
    });
    expect(await client.publishEvents(events.slice(0, 3))).toEqual({
      accepted: 0,
      duplicates: 3,
      rejected: [],
    });

    const u1 = await client.getSubject('u-1');
    expect(u1).toMatchObject({
      subject: 'u-1',
      expiresAt: '2025-01-05T10:00:00.000Z',
      decidedBy: { policy: 'account', system: 'accounts' },
    });
    expect(u1.fields.map((f) => [f.field, f.expiresAt]).sort()).toEqual([
      ['accounts.email', '2025-01-05T10:00:00.000Z'],
      ['accounts.name', '2025-01-05T10:00:00.000Z'],
      ['orders.address', '2023-06-29T14:00:00.000Z'],
    ]);

    expect(await client.previewRetention('account', 'P1Y')).toMatchObject({
      policy: 'account',
      currentRetention: 'P2Y',
      retention: 'P1Y',
      subjectFieldsUsingPolicy: 3,
      subjectFieldsChanged: 3,
      subjectFieldsEarlier: 3,
      subjectFieldsLater: 0,
      earliestNewExpiry: '2024-01-05T10:00:00.000Z',
      latestNewExpiry: '2024-02-01T00:00:00.000Z',
    });
    expect((await client.getSubject('u-1')).expiresAt).toBe('2025-01-05T10:00:00.000Z'); // only a preview

    const item = (subject: string, field: string, expiresAt: string, policy: string, system: string) => ({
      subject,
      field,
      expiresAt,
      policy,
      system,
      status: 'due' as const, // every one of these days has passed
    });
    const feed: ExpiryItem[] = [
      item('u-1', 'orders.address', '2023-06-29T14:00:00.000Z', 'orders', 'shop'),
      item('u-1', 'accounts.email', '2025-01-05T10:00:00.000Z', 'account', 'accounts'),
      item('u-1', 'accounts.name', '2025-01-05T10:00:00.000Z', 'account', 'accounts'),
      item('u-2', 'accounts.email', '2025-02-01T00:00:00.000Z', 'account', 'accounts'),
    ];
    expect(await client.expiries({ day: '2025-01-05' })).toEqual({ items: feed.slice(1, 3) });
    const first = await client.expiries({ from: '2023-01-01', to: '2025-12-31', limit: 3 });
    expect(first.items).toEqual(feed.slice(0, 3));
    expect(first.next).toEqual(expect.any(String));
    expect(
      await client.expiries({ from: '2023-01-01', to: '2025-12-31', limit: 3, cursor: first.next! }),
    ).toEqual({ items: feed.slice(3) });
    const streamed: ExpiryItem[] = [];
    for await (const expiry of client.streamExpiries({ from: '2023-01-01', to: '2025-12-31' })) {
      streamed.push(expiry);
    }
    expect(streamed).toEqual(feed);

    const erasure = await client.recordErasure('u-1', { system: 'shop', fields: ['orders.address'] });
    expect(erasure).toMatchObject({ subject: 'u-1', system: 'shop', fields: ['orders.address'] });
    const address = (await client.getSubject('u-1')).fields.find((f) => f.field === 'orders.address');
    expect(address?.erasedAt).toBe(erasure.erasedAt);
    const afterErasure: ExpiryItem[] = [];
    for await (const expiry of client.streamExpiries({ from: '2023-01-01', to: '2025-12-31' })) {
      afterErasure.push(expiry);
    }
    expect(afterErasure).toEqual(feed.slice(1));

    // Retiring needs a reason, like a retention change; it is kept on the retired version.
    await expect(client.retirePolicy('orders', ' ')).rejects.toMatchObject({
      status: 400,
      code: 'POLICY_CHANGE_REASON_REQUIRED',
    });
    const retired = await client.retirePolicy('orders', 'orders are kept by the shop system now');
    expect(retired).toMatchObject({ name: 'orders', status: 'retired', version: 2 });
    expect((await client.policyVersions('orders')).items.map((v) => [v.version, v.status, v.reason])).toEqual(
      [
        [1, 'active', undefined],
        [2, 'retired', 'orders are kept by the shop system now'],
      ],
    );
    const late = await client.publishEvents([{ ...events[1]!, id: 'e5', at: '2023-04-01T00:00:00Z' }]);
    expect(late).toMatchObject({ accepted: 0, rejected: [{ index: 0, code: 'POLICY_RETIRED' }] });
  });

  it('puts an event-anchored policy, records subject events and previews a change of since', async () => {
    const closure = await client.putPolicy('closure', {
      ...ACCOUNT,
      retention: 'P1M',
      since: 'event:account-closed',
    });
    expect(closure).toMatchObject({ name: 'closure', since: 'event:account-closed' });
    await client.putSystem('accounts', ACCOUNTS_SYSTEM);
    const published = await client.publishEvents([
      {
        id: 'c1',
        subject: 'u-9',
        system: 'accounts',
        policy: 'closure',
        fields: ['accounts.name'],
        at: '2024-01-05T00:00:00Z',
      },
    ]);
    expect(published).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    const waiting = (await client.getSubject('u-9')).fields[0]!;
    expect(waiting).toMatchObject({ waitingFor: 'account-closed', expiresAt: '9999-12-31T00:00:00.000Z' });
    expect(
      await client.recordSubjectEvents('u-9', {
        id: 'close-u-9',
        name: 'account-closed',
        at: '2024-01-31T00:00:00Z',
      }),
    ).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [],
      fieldsChanged: 1,
    });
    expect((await client.getSubject('u-9')).fields[0]!.expiresAt).toBe('2024-02-29T00:00:00.000Z');
    expect(
      await client.recordSubjectEvents('u-9', [
        { id: 'close-u-9', name: 'account-closed', at: '2024-01-31T00:00:00Z' },
      ]),
    ).toMatchObject({
      accepted: 0,
      duplicates: 1,
    });
    expect(await client.previewRetention('closure', 'P1M', { since: 'until:2030-01-01' })).toMatchObject({
      currentSince: 'event:account-closed',
      since: 'until:2030-01-01',
      subjectFieldsChanged: 1,
      latestNewExpiry: '2030-01-01T00:00:00.000Z',
    });
  });

  it('publishes a contract and stream events, reads the base and a derived stream, and shreds a subject', async () => {
    const contract = await client.putContract('signups', {
      version: 1,
      schema: {
        type: 'object',
        required: ['session', 'customer', 'email'],
        properties: { session: { type: 'string' }, customer: { type: 'string' }, email: { type: 'string' } },
      },
      keyLink: 'session',
      subject: 'customer',
      personal: [{ attribute: 'email', purposes: ['marketing.email'] }],
    });
    expect(contract).toMatchObject({ name: 'signups', version: 1 });
    expect((await client.getContract('signups')).latest.version).toBe(1);

    const signup = (id: string, customer: string, consent: string[]) => ({
      id,
      contract: 'signups@1',
      consent,
      data: { session: `s-${customer}`, customer, email: `${customer}@mail.example` },
    });
    const published = await client.publishStreamEvents([
      signup('s1', 'ann', ['marketing.email']),
      signup('s2', 'bob', []),
      { ...signup('s3', 'cy', []), data: { session: 's-cy' } },
    ]);
    expect(published.accepted).toBe(2);
    expect(published.rejected.map((r) => [r.index, r.reasons.map((reason) => reason.code)])).toEqual([
      [2, ['MISSING_ATTRIBUTE', 'MISSING_ATTRIBUTE']],
    ]);
    expect((await client.publishStreamEvents([signup('s1', 'ann', ['marketing.email'])])).duplicates).toBe(1);

    const base = await client.readStream();
    expect(base.events.map((event) => event.id)).toEqual(['s1', 's2']);
    expect(base.events[0]?.data['email']).toMatch(/^lf1\./);
    const marketing = await client.readStream({ purposes: ['marketing.email'], withheld: 'drop' });
    expect(marketing.events.map((event) => [event.id, event.data['email']])).toEqual([
      ['s1', 'ann@mail.example'],
    ]);
    expect(marketing.lastSeq).toBe(2);

    expect((await client.streamKeys('ann')).items).toHaveLength(1);
    expect(await client.shredStreamKeys('ann')).toEqual({ shredded: 1 });
    const after = await client.readStream({ purposes: ['marketing.email'] });
    expect(after.events[0]).toMatchObject({ id: 's1', data: { email: null }, unreadable: ['email'] });
  });

  it('places, reads and releases a legal hold, and expires a subject now', async () => {
    await client.putPolicy('account', ACCOUNT);
    await client.putSystem('accounts', ACCOUNTS_SYSTEM);
    const at = new Date(Date.now() - 10 * 86_400_000).toISOString();
    const fields = ['accounts.email', 'accounts.name'];
    await client.publishEvents([
      { id: 'h1', subject: 'u-7', system: 'accounts', policy: 'account', fields, at },
    ]);

    const expired = await client.expireSubjectNow('u-7', {
      reason: 'Complaint #881',
      fields: ['accounts.email'],
    });
    expect(expired.fields.map((f) => f.field)).toEqual(['accounts.email']);
    expect(Date.parse(expired.fields[0]!.expiresAt)).toBeLessThanOrEqual(Date.now());

    const hold = await client.putHold('case-7', {
      reason: 'Case 7',
      subjects: ['u-7'],
      systems: ['accounts'],
    });
    expect(hold).toMatchObject({ name: 'case-7', createdBy: 'test', subjects: ['u-7'] });
    expect(await client.getHold('case-7')).toEqual(hold);
    expect((await client.listHolds()).map((h) => h.name)).toEqual(['case-7']);
    const held = (await client.getSubject('u-7')).fields.find((f) => f.field === 'accounts.email');
    expect(held).toMatchObject({
      hold: { name: 'case-7', by: 'test' },
      expireNow: { reason: 'Complaint #881' },
    });

    await client.releaseHold('case-7');
    expect(await client.listHolds()).toEqual([]);
    expect((await apiError(client.releaseHold('case-7'))).code).toBe('HOLD_NOT_FOUND');
  });

  it("throws LetheApiError carrying the server's status and code", async () => {
    const missing = await apiError(client.getPolicy('no-such-policy'));
    expect(missing).toMatchObject({ status: 404, code: 'POLICY_NOT_FOUND' });
    expect(missing.requestId).toEqual(expect.any(String));
    expect(missing.retryable).toBe(false);

    const unknownProperty = await apiError(
      client.putPolicy('p', { ...ACCOUNT, colour: 'red' } as unknown as PolicyInput),
    );
    expect(unknownProperty).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(unknownProperty.details).toEqual([expect.objectContaining({ property: 'colour' })]);

    expect(await apiError(client.putPolicy('p', { ...ACCOUNT, retention: 'P2X' }))).toMatchObject({
      status: 400,
      code: 'INVALID_DURATION',
    });
    expect(await apiError(client.getSubject('nobody'))).toMatchObject({
      status: 404,
      code: 'SUBJECT_NOT_FOUND',
    });
    const stranger = new LetheClient({ url, token: 'not-a-token' });
    expect(await apiError(stranger.listPolicies())).toMatchObject({ status: 401, code: 'TOKEN_INVALID' });
    const nobodyHome = new LetheClient({ url: 'http://127.0.0.1:9', token: 'x', timeoutMs: 2_000 });
    const refused = await apiError(nobodyHome.listPolicies());
    expect(refused).toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
    expect(refused.retryable).toBe(true);
  });

  async function declare(): Promise<void> {
    await client.putPolicy('account', ACCOUNT);
    await client.putSystem('accounts', ACCOUNTS_SYSTEM);
  }
  const AT = Date.parse('2024-03-01T00:00:00Z');
  const event = (subject: string, n: number) => ({
    subject,
    system: 'accounts',
    policy: 'account',
    fields: ['accounts.email'],
    at: new Date(AT + n * 1_000),
  });

  it('Publisher delivers 5,000 events in small batches, each counted once', async () => {
    await declare();
    const subjects = Array.from({ length: 20 }, (_, i) => `p-${i}`);
    const publisher = new Publisher({ client, maxBatchSize: 100, flushIntervalMs: 20 });
    for (let n = 0; n < 5_000; n += 1) {
      expect(publisher.publish(event(subjects[n % subjects.length]!, n))).toBe(true);
    }
    expect(await publisher.close({ timeoutMs: 20_000 })).toEqual({ sent: 5_000, unsent: 0 });
    expect(publisher.stats()).toMatchObject({
      published: 5_000,
      sent: 5_000,
      duplicates: 0,
      rejected: 0,
      dropped: 0,
      buffered: 0,
    });
    const counts = await Promise.all(subjects.map(usesOf));
    expect(counts).toEqual(subjects.map(() => 5_000 / subjects.length));
  });

  it('Publisher keeps events while the server is down and delivers them once it is back', async () => {
    await declare();
    const port = Number(new URL(url).port);
    const subjects = Array.from({ length: 10 }, (_, i) => `o-${i}`);
    const failures: unknown[] = [];
    const dropped: unknown[] = [];
    const publisher = new Publisher({
      client,
      maxBatchSize: 50,
      flushIntervalMs: 20,
      retry: { baseDelayMs: 10, maxDelayMs: 100 },
      onError: (error) => failures.push(error),
      onDrop: (events, reason) => dropped.push({ count: events.length, reason }),
    });
    let n = 0;
    const publishSome = (count: number) => {
      for (const end = n + count; n < end; n += 1)
        publisher.publish(event(subjects[n % subjects.length]!, n));
    };

    publishSome(500);
    await publisher.flush();
    expect(publisher.stats()).toMatchObject({ sent: 500, buffered: 0 });

    await stop(); // the server goes away
    publishSome(500);
    const deadline = Date.now() + 10_000;
    while (publisher.stats().retries < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(publisher.stats()).toMatchObject({ sent: 500, buffered: 500, dropped: 0 });
    expect(publisher.stats().retries).toBeGreaterThanOrEqual(3);
    expect(failures[0]).toMatchObject({ code: 'NETWORK_ERROR' });

    await start(port); // back, same data dir and address: the token still verifies
    expect(await publisher.close({ timeoutMs: 20_000 })).toEqual({ sent: 1_000, unsent: 0 });
    expect(dropped).toEqual([]);
    expect(publisher.stats()).toMatchObject({ published: 1_000, sent: 1_000, dropped: 0 });
    // Every event counted exactly once, retried batches included.
    const counts = await Promise.all(subjects.map(usesOf));
    expect(counts).toEqual(subjects.map(() => 1_000 / subjects.length));
  });
});
