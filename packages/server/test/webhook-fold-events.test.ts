import type { Reappearance } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';

const available = await availableBackends();
const at = (day: string) => `${day}T00:00:00Z`;

/**
 * The fold's webhook events (docs/webhooks.md), read from the outbox on every backend: a replayed
 * use announces no reappearance again, a reappearance is counted under the system the
 * reappearances list shows, and a subject that broke two policies counts once.
 */
describe.each(ALL_BACKENDS)('fold webhook events: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  const tokens = { admin: '', dpo: '' };

  async function ok(method: string, url: string, payload?: unknown, as: keyof typeof tokens = 'admin') {
    const response = await lethe.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${tokens[as]}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json<unknown>();
  }
  /** Publishes, folds, and returns the outbox's events of `type` (nothing dispatches them here). */
  async function publish(events: unknown[]): Promise<void> {
    await ok('POST', '/v1/events', { events });
    await lethe.services.store.freshAggregates();
  }
  async function outbox(type: string): Promise<Record<string, unknown>[]> {
    const events = await lethe.services.store.repository.webhooks.undispatched(10_000);
    return events.filter((event) => event.type === type).map((event) => JSON.parse(event.data));
  }

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create();
    dispose = location.dispose;
    // The delivery job never runs in this test: the events stay in the outbox to be read.
    lethe = await createLethe({ ...location, rateLimit: false, webhooks: { tickMs: 3_600_000 } });
    tokens.admin = (await lethe.tokens.mint({ subject: 'fold-admin', role: 'admin', ttlSeconds: 600 })).token;
    tokens.dpo = (await lethe.tokens.mint({ subject: 'fold-dpo', role: 'dpo', ttlSeconds: 600 })).token;
    const policies = {
      ...POLICIES,
      'send-marketing-sms': { purpose: 'marketing.email', retention: 'P3M', legalBasis: 'consent' },
      'account-first-use': {
        purpose: 'essential.account',
        retention: 'P2Y',
        legalBasis: 'contract',
        since: 'first-use',
      },
    };
    for (const [name, body] of Object.entries(policies)) await ok('PUT', `/v1/policies/${name}`, body);
    for (const [name, body] of Object.entries(SYSTEMS)) await ok('PUT', `/v1/systems/${name}`, body);
  }, 60_000);

  afterAll(async () => {
    if (missing) return;
    await lethe.close();
    await dispose();
  });

  it.skipIf(missing)('a use replayed at the same instant announces no reappearance again', async () => {
    await publish([usage('replay-subject', 'user-account-access', ['accounts.email'], at('2024-03-01'))]);
    await ok('POST', '/v1/subjects/replay-subject/erasures', { system: 'accounts', at: at('2024-03-02') });
    const before = (await outbox('reappearance.detected')).length;
    await publish([usage('replay-subject', 'user-account-access', ['accounts.email'], at('2024-03-03'))]);
    expect(await outbox('reappearance.detected')).toHaveLength(before + 1);
    // The same use again (a re-ingest under a new event id), alone and then in a fold of its own.
    await publish([usage('replay-subject', 'user-account-access', ['accounts.email'], at('2024-03-03'))]);
    await publish([usage('replay-subject', 'user-account-access', ['accounts.email'], at('2024-03-03'))]);
    expect(await outbox('reappearance.detected')).toHaveLength(before + 1);
  });

  it.skipIf(missing)('nor does a replayed use of a field whose expiry a DPO decided', async () => {
    // The decision holds the expiry below what the use would give it: the replay changes nothing.
    await publish([usage('decided-subject', 'user-account-access', ['accounts.email'], at('2026-06-01'))]);
    await ok('POST', '/v1/subjects/decided-subject/expire', { reason: 'complaint' }, 'dpo');
    await ok('POST', '/v1/subjects/decided-subject/erasures', { system: 'accounts', at: at('2026-06-02') });
    const before = (await outbox('reappearance.detected')).length;
    await publish([usage('decided-subject', 'user-account-access', ['accounts.email'], at('2026-06-03'))]);
    await publish([usage('decided-subject', 'user-account-access', ['accounts.email'], at('2026-06-03'))]);
    expect(await outbox('reappearance.detected')).toHaveLength(before + 1);
  });

  // KNOWN GAP, on both backends: under a policy aged from its first use, the stored expiry is
  // below what the use alone gives, so the replay rewrites the row, which then looks like a new
  // reappearance at the same instant. Telling them apart needs the row's state before the upsert.
  // This test fails (as `it.fails` expects) until that is done.
  it.fails('nor under a policy counted from the first use', async () => {
    if (missing) throw new Error('backend missing');
    // Its expiry is computed from the first use, below what a later use alone would give.
    await publish([
      usage('aged-subject', 'account-first-use', ['accounts.email'], at('2026-01-01'), 'accounts'),
    ]);
    await ok('POST', '/v1/subjects/aged-subject/erasures', { system: 'accounts', at: at('2026-01-02') });
    const before = (await outbox('reappearance.detected')).length;
    await publish([
      usage('aged-subject', 'account-first-use', ['accounts.email'], at('2026-03-03'), 'accounts'),
    ]);
    await publish([
      usage('aged-subject', 'account-first-use', ['accounts.email'], at('2026-03-03'), 'accounts'),
    ]);
    expect(await outbox('reappearance.detected')).toHaveLength(before + 1);
  });

  it.skipIf(missing)('a reappearance is counted under the system /v1/reappearances shows', async () => {
    // accounts gives the field its latest expiry (two years); orders uses it again after its
    // erasure, under a policy of 120 days that does not move that expiry.
    await publish([usage('moved-subject', 'user-account-access', ['accounts.email'], at('2024-05-01'))]);
    await ok('POST', '/v1/subjects/moved-subject/erasures', { system: 'accounts', at: at('2024-05-02') });
    const before = await outbox('reappearance.detected');
    await publish([usage('moved-subject', 'order-delivery', ['accounts.email'], at('2024-05-03'), 'orders')]);
    const after = await outbox('reappearance.detected');
    expect(after).toHaveLength(before.length + 1);
    const listed = (await ok('GET', '/v1/reappearances?limit=1000')) as { items: Reappearance[] };
    const item = listed.items.find((entry) => entry.subject === 'moved-subject');
    expect(item?.system).toBe('accounts');
    expect(after.at(-1)).toEqual({ system: 'accounts', fields: 1, reappearances: '/v1/reappearances' });
  });

  it.skipIf(missing)('consent.violation counts a subject that broke two policies once', async () => {
    await ok('PUT', '/v1/subjects/two-policies/consent', {
      purposes: { 'marketing.email': false },
      at: at('2024-01-01'),
    });
    const before = (await outbox('consent.violation')).length;
    // One subject: on PostgreSQL, subjects of other journal partitions would be other folds.
    await publish([
      usage('two-policies', 'send-marketing-email', ['accounts.email'], at('2024-02-01')),
      usage('two-policies', 'send-marketing-sms', ['accounts.email'], at('2024-02-01'), 'mailer'),
    ]);
    const events = (await outbox('consent.violation')).slice(before);
    expect(events).toEqual([
      {
        system: 'mailer',
        uses: 2,
        subjects: 1,
        policies: ['send-marketing-email', 'send-marketing-sms'],
        violations: '/v1/consent/violations',
      },
    ]);
  });
});
