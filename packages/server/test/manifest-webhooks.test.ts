import type { Manifest, ManifestResult, Webhook } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';

const available = await availableBackends();

type WebhookEntry = NonNullable<Manifest['webhooks']>[number];

const OPS: WebhookEntry = {
  name: 'ops',
  url: 'http://localhost:9/ops',
  events: ['request.overdue', 'request.failed'],
};
const EXPIRIES: WebhookEntry = {
  name: 'expiries',
  url: 'https://hooks.example.com/lethe',
  events: ['expiries.due'],
  systems: ['orders', 'accounts'],
  dueSoonDays: 3,
};

/**
 * Webhook subscriptions in manifests (docs/manifests.md "Webhooks"), through HTTP so that the
 * manifest's schema is checked as `lethe apply` meets it, on every backend: create with the secret
 * shown once, quiet re-apply, change, dry run, export without secrets, prune, refusals.
 */
describe.each(ALL_BACKENDS)('manifest webhooks: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  const tokens = { admin: '', dpo: '', auditor: '' };

  function call(method: 'GET' | 'POST', url: string, payload?: unknown, as: keyof typeof tokens = 'admin') {
    return lethe.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[as]}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  async function apply(manifest: Manifest, query = '') {
    const response = await call('POST', `/v1/manifest${query}`, manifest);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<ManifestResult>();
  }
  const hookChanges = (result: ManifestResult) =>
    result.changes.filter((c) => c.section === 'webhooks').map((c) => `${c.name} ${c.action}`);
  const webhooks = async () =>
    (await call('GET', '/v1/webhooks'))
      .json<{ items: Webhook[] }>()
      .items.map(({ createdAt: _c, updatedAt: _u, createdBy: _cb, updatedBy: _ub, ...hook }) => hook);
  const hookAudit = async () =>
    (await lethe.services.store.repository.audit.entries(0, 10_000))
      .filter((e) => e.target.startsWith('webhook:'))
      .map((e) => `${e.action} ${e.target}`);

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    dispose = location.dispose;
    lethe = await createLethe({ ...location, rateLimit: false });
    const mint = async (request: Parameters<Lethe['tokens']['mint']>[0]) =>
      (await lethe.tokens.mint(request)).token;
    tokens.admin = await mint({ subject: 'hooks-admin', role: 'admin', ttlSeconds: 600 });
    tokens.dpo = await mint({ subject: 'dpo-dora', role: 'dpo', ttlSeconds: 600 });
    tokens.auditor = await mint({ subject: 'auditor-al', role: 'auditor', ttlSeconds: 600 });
  }, 60_000);

  afterAll(async () => {
    if (missing) return;
    await lethe.close();
    await dispose();
  });

  it('creates the subscriptions, showing each secret once in the result, audited like the API', async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    const dry = await apply({ webhooks: [OPS] }, '?dryRun=true');
    expect(hookChanges(dry)).toEqual(['ops created']);
    // A dry run's secret was rolled back with the subscription: it is not shown.
    expect(dry.changes[0]?.secret).toBeUndefined();
    expect(await webhooks()).toEqual([]);

    const created = await apply({ webhooks: [OPS, EXPIRIES] });
    expect(hookChanges(created)).toEqual(['ops created', 'expiries created']);
    for (const change of created.changes) expect(change.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{20,}$/);
    expect(created.changes[0]?.secret).not.toBe(created.changes[1]?.secret);
    expect(await webhooks()).toEqual([
      {
        name: 'expiries',
        url: EXPIRIES.url,
        events: ['expiries.due'],
        systems: ['accounts', 'orders'],
        dueSoonDays: 3,
      },
      { name: 'ops', url: OPS.url, events: ['request.failed', 'request.overdue'], dueSoonDays: 7 },
    ]);
    expect(await hookAudit()).toEqual(['webhook.create webhook:ops', 'webhook.create webhook:expiries']);
  });

  it('re-applies quietly and changes what changed, keeping the secret', async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    const before = (await call('GET', '/v1/webhooks/ops')).json<Webhook>();
    const again = await apply({
      webhooks: [EXPIRIES, { ...OPS, events: ['request.failed', 'request.overdue'] }],
    });
    expect(hookChanges(again)).toEqual(['expiries unchanged', 'ops unchanged']);
    expect(again.changes.some((c) => c.secret !== undefined)).toBe(false);
    expect(await hookAudit()).toHaveLength(2);
    expect((await call('GET', '/v1/webhooks/ops')).json<Webhook>()).toEqual(before);

    const { systems: _systems, ...unfiltered } = EXPIRIES;
    const changed = await apply({ webhooks: [{ ...OPS, url: 'https://ops.example.com/hook' }, unfiltered] });
    expect(hookChanges(changed)).toEqual(['ops changed', 'expiries changed']);
    expect(changed.changes.some((c) => c.secret !== undefined)).toBe(false);
    expect(await webhooks()).toEqual([
      { name: 'expiries', url: EXPIRIES.url, events: ['expiries.due'], dueSoonDays: 3 },
      {
        name: 'ops',
        url: 'https://ops.example.com/hook',
        events: ['request.failed', 'request.overdue'],
        dueSoonDays: 7,
      },
    ]);
    expect((await hookAudit()).slice(2)).toEqual([
      'webhook.change webhook:ops',
      'webhook.change webhook:expiries',
    ]);
  });

  it('exports the subscriptions without secrets, and the export applies back unchanged', async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    const exported = await call('GET', '/v1/manifest');
    expect(exported.statusCode, exported.body).toBe(200);
    expect(exported.body).not.toContain('whsec_');
    expect(exported.body).not.toContain('secret');
    const manifest = exported.json<Manifest>();
    expect(manifest.webhooks).toEqual([
      { name: 'expiries', url: EXPIRIES.url, events: ['expiries.due'], dueSoonDays: 3 },
      { name: 'ops', url: 'https://ops.example.com/hook', events: ['request.failed', 'request.overdue'] },
    ]);
    const back = await apply(manifest, '?prune=true');
    expect(back.summary).toMatchObject({ created: 0, changed: 0, removed: 0 });
    // An auditor may export the map but not read subscriptions: the section is left out.
    const audited = await call('GET', '/v1/manifest', undefined, 'auditor');
    expect(audited.statusCode, audited.body).toBe(200);
    expect(audited.json<Manifest>().webhooks).toBeUndefined();
  });

  it('refuses a bad entry with a stable code and applies nothing of the manifest', async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    const auditBefore = await hookAudit();
    const badEvent = await call('POST', '/v1/manifest', {
      teams: [{ name: 'growth' }],
      webhooks: [{ name: 'new-hook', url: 'https://x.example.com', events: ['request.exploded'] }],
    });
    expect(badEvent.statusCode, badEvent.body).toBe(400);
    expect(badEvent.json<{ error: { code: string } }>().error.code).toBe('VALIDATION_FAILED');

    // Checked inside the transaction: the team written before it rolls back too.
    const badUrl = await call('POST', '/v1/manifest', {
      teams: [{ name: 'growth' }],
      webhooks: [OPS, { name: 'new-hook', url: 'http://198.51.100.7/hook', events: ['expiries.due'] }],
    });
    expect(badUrl.statusCode, badUrl.body).toBe(400);
    const error = badUrl.json<{ error: { code: string; details: { path: string } } }>().error;
    expect(error).toMatchObject({ code: 'WEBHOOK_URL_INVALID', details: { path: 'webhooks[1]' } });

    // A DPO may apply a manifest, but subscriptions need an admin.
    const byDpo = await call('POST', '/v1/manifest', { teams: [{ name: 'growth' }], webhooks: [OPS] }, 'dpo');
    expect(byDpo.statusCode, byDpo.body).toBe(403);

    expect((await webhooks()).map((w) => `${w.name} ${w.url}`)).toEqual([
      `expiries ${EXPIRIES.url}`,
      'ops https://ops.example.com/hook',
    ]);
    expect((await call('GET', '/v1/teams/growth')).statusCode).toBe(404);
    expect(await hookAudit()).toEqual(auditBefore);
  });

  it('prune removes the subscriptions the manifest omits, audited', async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    const pruned = await apply({ webhooks: [EXPIRIES] }, '?prune=true');
    expect(hookChanges(pruned)).toEqual(['expiries changed', 'ops removed']);
    expect((await webhooks()).map((w) => w.name)).toEqual(['expiries']);
    expect((await hookAudit()).slice(-2)).toEqual([
      'webhook.change webhook:expiries',
      'webhook.delete webhook:ops',
    ]);
    // Without --prune an omitted subscription stays.
    const kept = await apply({});
    expect(hookChanges(kept)).toEqual([]);
    expect((await webhooks()).map((w) => w.name)).toEqual(['expiries']);
  });
});
