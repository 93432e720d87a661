import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { backendLethe } from './support/backend-lethe.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';

const available = await availableBackends();
const DAY = 86_400_000;

/**
 * A policy change (docs/retention.md "Retention changes"), through HTTP on every backend: the
 * preview's "due at once" exact on a constructed data set (a held field, an erased one, one due
 * already), scoped like every read; the reason a change of retention or a retirement needs, kept
 * on the version and in the audit entry; and the reason a manifest records.
 *
 * order-delivery (P120D) previewed at P90D; days are counted back from now:
 *   due-1 100, due-2 95: move from a later day to the past: due at once
 *   held  100: the same, but a legal hold keeps it: held at once
 *   soon  30: earlier, still upcoming; gone 100: erased by its system; old 200: due already
 *   acct  50 (accounts.email, system accounts): earlier, upcoming
 */
describe.each(ALL_BACKENDS)('policy change: $name', (backend) => {
  const missing = !available.includes(backend);
  const { call } = backendLethe(backend, missing, {
    admin: { subject: 'change-admin', role: 'admin' },
    dpo: { subject: 'dpo-anna', role: 'dpo' },
    accountsService: { subject: 'accounts-svc', role: 'service', system: 'accounts' },
    ordersService: { subject: 'orders-svc', role: 'service', system: 'orders' },
    addressDpo: { subject: 'dpo-address', role: 'dpo', categories: ['user.contact.address'] },
  });

  beforeAll(async () => {
    if (missing) return;
    for (const [name, body] of Object.entries(POLICIES)) await call('PUT', `/v1/policies/${name}`, body);
    for (const [name, body] of Object.entries(SYSTEMS)) await call('PUT', `/v1/systems/${name}`, body);
    const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();
    const address = (subject: string, days: number) =>
      usage(subject, 'order-delivery', ['orders.address'], daysAgo(days));
    const events = [
      address('due-1', 100),
      address('due-2', 95),
      address('held', 100),
      address('soon', 30),
      address('gone', 100),
      address('old', 200),
      usage('acct', 'order-delivery', ['accounts.email'], daysAgo(50), 'accounts'),
    ];
    const published = await call('POST', '/v1/events', { events });
    expect(published.json()).toMatchObject({ accepted: events.length });
    expect((await call('POST', '/v1/subjects/gone/erasures', { system: 'orders' })).statusCode).toBe(200);
    const hold = await call('PUT', '/v1/holds/case-7', { reason: 'inquiry 7', subjects: ['held'] });
    expect(hold.statusCode, hold.body).toBeLessThan(300);
  });
  const preview = async (as: Parameters<typeof call>[3]) => {
    const response = await call('POST', '/v1/policies/order-delivery/preview', { retention: 'P90D' }, as);
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };

  it.skipIf(missing)('counts the fields due at once, held ones apart, and where the moves land', async () => {
    expect(await preview('dpo')).toMatchObject({
      subjectFieldsUsingPolicy: 7,
      subjectFieldsChanged: 7,
      subjectFieldsEarlier: 7,
      subjectFieldsLater: 0,
      subjectFieldsUnchanged: 0,
      dueAtOnce: 2,
      heldAtOnce: 1,
      systems: [
        { system: 'orders', earlier: 6, later: 0, dueAtOnce: 2 },
        { system: 'accounts', earlier: 1, later: 0, dueAtOnce: 0 },
      ],
    });
    // A longer retention makes nothing due.
    const longer = await call('POST', '/v1/policies/order-delivery/preview', { retention: 'P1Y' });
    expect(longer.json()).toMatchObject({ subjectFieldsLater: 7, dueAtOnce: 0, heldAtOnce: 0 });
  });

  it.skipIf(missing)('scopes the preview like every read: own system, visible categories', async () => {
    expect(await preview('accountsService')).toMatchObject({
      subjectFieldsUsingPolicy: 1,
      subjectFieldsChanged: 1,
      dueAtOnce: 0,
      heldAtOnce: 0,
      systems: [{ system: 'accounts', earlier: 1 }],
    });
    expect(await preview('ordersService')).toMatchObject({
      subjectFieldsUsingPolicy: 6,
      dueAtOnce: 2,
      heldAtOnce: 1,
      systems: [{ system: 'orders', earlier: 6 }],
    });
    const limited = await preview('addressDpo');
    expect(limited).toMatchObject({ subjectFieldsUsingPolicy: 6, dueAtOnce: 2 });
    expect(limited.systems.map((share: { system: string }) => share.system)).toEqual(['orders']);
  });

  it.skipIf(missing)('refuses a change of retention, since or legal basis without a reason', async () => {
    const base = { purpose: 'essential.account', retention: 'P1Y', legalBasis: 'contract' };
    const created = await call('PUT', '/v1/policies/reasoned', base);
    expect(created.statusCode, created.body).toBe(201);
    for (const change of [
      { retention: 'P6M' },
      { since: 'first-use' },
      { legalBasis: 'legitimate_interests' },
      { retention: 'P6M', reason: '   ' },
    ]) {
      const refused = await call('PUT', '/v1/policies/reasoned', { ...base, ...change });
      expect(refused.statusCode, JSON.stringify(change)).toBe(400);
      expect(refused.json().error.code).toBe('POLICY_CHANGE_REASON_REQUIRED');
    }
    const tooLong = await call('PUT', '/v1/policies/reasoned', {
      ...base,
      retention: 'P6M',
      reason: 'x'.repeat(2001),
    });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.code).toBe('VALIDATION_FAILED');
    // Nothing of the refused changes was kept.
    expect((await call('GET', '/v1/policies/reasoned')).json()).toMatchObject({
      retention: 'P1Y',
      version: 1,
    });
    // A change that moves no expiry needs none.
    const described = await call('PUT', '/v1/policies/reasoned', { ...base, description: 'accounts' });
    expect(described.statusCode, described.body).toBe(200);
    // Nor does a contract policy's new purpose; a consent-based policy's purpose names the consent
    // its uses need, so changing it moves expiries and needs one.
    const repurposed = await call('PUT', '/v1/policies/reasoned', { ...base, purpose: 'essential.orders' });
    expect(repurposed.statusCode, repurposed.body).toBe(200);
    const consented = { purpose: 'marketing.email', retention: 'P6M', legalBasis: 'consent' };
    expect((await call('PUT', '/v1/policies/consented', consented)).statusCode).toBe(201);
    const silent = await call('PUT', '/v1/policies/consented', {
      ...consented,
      purpose: 'essential.account',
    });
    expect(silent.statusCode).toBe(400);
    expect(silent.json().error.code).toBe('POLICY_CHANGE_REASON_REQUIRED');
  });

  it.skipIf(missing)('keeps the reason on the version and in the audit entry', async () => {
    const base = { purpose: 'essential.account', retention: 'P2Y', legalBasis: 'contract' };
    await call('PUT', '/v1/policies/history', { ...base, reason: 'new contract terms' }, 'dpo');
    const changed = await call(
      'PUT',
      '/v1/policies/history',
      { ...base, retention: 'P18M', reason: '  DPA guidance 2026-3  ' },
      'dpo',
    );
    expect(changed.statusCode, changed.body).toBe(200);
    const versions = (await call('GET', '/v1/policies/history/versions', undefined, 'dpo')).json().items;
    expect(versions).toMatchObject([
      { version: 1, retention: 'P2Y', reason: 'new contract terms', changedBy: 'dpo-anna' },
      { version: 2, retention: 'P18M', reason: 'DPA guidance 2026-3', changedBy: 'dpo-anna' },
    ]);
    const entries = (await call('GET', '/v1/audit?limit=1000')).json().items as {
      action: string;
      target: string;
    }[];
    expect(
      entries.filter((entry) => entry.action === 'policy.put' && entry.target.startsWith('policy:history')),
    ).toMatchObject([
      { target: 'policy:history v1 reason="new contract terms"' },
      { target: 'policy:history v2 reason="DPA guidance 2026-3"' },
    ]);
  });

  it.skipIf(missing)('retires a policy only with a reason, kept on the version and audited', async () => {
    const base = { purpose: 'essential.account', retention: 'P1Y', legalBasis: 'contract' };
    expect((await call('PUT', '/v1/policies/retiring', base)).statusCode).toBe(201);
    for (const query of ['', '?reason=', '?reason=%20%20']) {
      const refused = await call('DELETE', `/v1/policies/retiring${query}`, undefined, 'dpo');
      expect(refused.statusCode, query).toBe(400);
      expect(refused.json().error.code, query).toBe('POLICY_CHANGE_REASON_REQUIRED');
    }
    const tooLong = await call(
      'DELETE',
      `/v1/policies/retiring?reason=${'x'.repeat(2001)}`,
      undefined,
      'dpo',
    );
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.code).toBe('VALIDATION_FAILED');
    expect((await call('GET', '/v1/policies/retiring')).json()).toMatchObject({
      status: 'active',
      version: 1,
    });

    const why = encodeURIComponent('  replaced by essential-account-v2  ');
    const retired = await call('DELETE', `/v1/policies/retiring?reason=${why}`, undefined, 'dpo');
    expect(retired.statusCode, retired.body).toBe(200);
    expect(retired.json()).toMatchObject({ status: 'retired', version: 2 });
    const versions = (await call('GET', '/v1/policies/retiring/versions')).json().items;
    expect(versions).toMatchObject([
      { version: 1, status: 'active' },
      { version: 2, status: 'retired', reason: 'replaced by essential-account-v2', changedBy: 'dpo-anna' },
    ]);
    expect(versions[0].reason).toBeUndefined();
    const entries = (await call('GET', '/v1/audit?limit=1000')).json().items as {
      action: string;
      target: string;
    }[];
    expect(entries.filter((entry) => entry.action === 'policy.retire')).toContainEqual(
      expect.objectContaining({ target: 'policy:retiring v2 reason="replaced by essential-account-v2"' }),
    );
  });

  it.skipIf(missing)('records the reason of a manifest on every version it makes', async () => {
    const policy = {
      name: 'manifested',
      purpose: 'essential.account',
      retention: 'P2Y',
      legalBasis: 'contract',
    };
    const apply = (query: string, retention: string) =>
      call('POST', `/v1/manifest${query}`, { policies: [{ ...policy, retention }] });
    expect((await apply('', 'P2Y')).statusCode).toBe(200);
    const given = await apply(`?reason=${encodeURIComponent('quarterly review')}`, 'P1Y');
    expect(given.statusCode, given.body).toBe(200);
    const pruned = await call('POST', '/v1/manifest?prune=true&reason=cleanup', {
      policies: Object.entries(POLICIES).map(([name, body]) => ({ name, ...body })),
      systems: Object.entries(SYSTEMS).map(([name, body]) => ({ name, ...body })),
      holds: [{ name: 'case-7', reason: 'inquiry 7', subjects: ['held'] }],
    });
    expect(pruned.statusCode, pruned.body).toBe(200);
    const versions = (await call('GET', '/v1/policies/manifested/versions')).json().items;
    expect(versions).toMatchObject([
      { version: 1, reason: 'applied from manifest' },
      { version: 2, retention: 'P1Y', reason: 'quarterly review' },
      { version: 3, status: 'retired', reason: 'cleanup' },
    ]);
    // A reason inside a manifest's policy entry is refused: one reason per apply.
    const inside = await call('POST', '/v1/manifest', { policies: [{ ...policy, reason: 'x' }] });
    expect(inside.statusCode).toBe(400);
  });
});
