import type { Manifest, ManifestResult } from '@lethe/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LETHE_ITSELF, type Principal } from '../src/auth/principal.js';
import { AppError } from '../src/lib/app-error.js';
import type { Services } from '../src/services.js';
import { ALL_BACKENDS, availableBackends, openServices } from './support/backends.js';
import { companyManifest } from './support/company-manifest.js';

const available = await availableBackends();
const admin = LETHE_ITSELF;

/** Manifests as one transaction, on every backend: apply, dry run, prune, export round trip, refusals. */
describe.each(ALL_BACKENDS)('manifests: $name', (backend) => {
  const missing = !available.includes(backend);
  let services: Services;
  let dispose: () => Promise<void>;

  beforeEach(async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    ({ services, dispose } = await openServices(backend));
  });
  afterEach(async () => {
    if (!missing) await dispose();
  });

  const apply = (
    manifest: Manifest,
    options: { dryRun?: boolean; prune?: boolean } = {},
    as: Principal = admin,
  ) => services.manifests.apply(as, manifest, options);
  const actions = (result: ManifestResult) =>
    Object.fromEntries(result.changes.map((c) => [`${c.section}/${c.name}`, c.action]));
  const refusal = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError & { details: Record<string, unknown> };
  };
  const auditLength = async () => (await services.store.repository.audit.head()).seq;

  it('creates every entry, and applying the same manifest again changes nothing (no audit entry either)', async () => {
    const first = await apply(companyManifest());
    expect(first.summary).toEqual({ created: 23, changed: 0, unchanged: 0, removed: 0, kept: 0 });
    expect(actions(first)).toMatchObject({
      'taxonomy/taxonomy': 'created',
      'organisation/organisation': 'created',
      'systems/stripe': 'created',
      'flows/orders -> stripe': 'created',
      'clients/orders-ticket': 'created',
      'sources/prometheus-main': 'created',
      'connectors/accounts-db': 'created',
    });
    expect(first.changes.find((c) => c.name === 'stripe')?.path).toBe('systems[4]');
    // The connector's link has no direction: what it means since the reference graph is said.
    expect(first.changes.find((c) => c.name === 'accounts-db')?.notes).toEqual([
      expect.stringMatching(/^1 link\(s\) without a direction \(tables\[1\]\.links\[0\]\)/),
      // Its connection string is not set here: saved, said, and checked at each run's start.
      expect.stringMatching(/^not checked against the database: \w+ is not set on this server/),
    ]);
    expect(first.changes.find((c) => c.name === 'stripe')?.notes).toBeUndefined();

    const before = await auditLength();
    const second = await apply(companyManifest());
    expect(second.summary).toEqual({ created: 0, changed: 0, unchanged: 23, removed: 0, kept: 0 });
    expect(await auditLength()).toBe(before);
    const policy = await services.policies.get(admin, 'user-account-access');
    expect(policy).toMatchObject({ version: 1, dataSubjects: ['customers'], reviewedOn: '2026-09-15' });
  });

  it('a dry run reports exactly the changes and keeps none of them', async () => {
    await apply(companyManifest());
    const changed = companyManifest();
    changed.policies![2]!.retention = 'P3Y';
    changed.flows!.push({ from: 'orders', to: 'warehouse', categories: ['user.contact.address'] });
    const exported = await services.manifests.export(admin);
    const audit = await auditLength();

    const dry = await apply(changed, { dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.summary).toEqual({ created: 1, changed: 1, unchanged: 22, removed: 0, kept: 0 });
    expect(actions(dry)['policies/user-account-access']).toBe('changed');
    expect(actions(dry)['flows/orders -> warehouse']).toBe('created');

    expect(await services.manifests.export(admin)).toEqual(exported);
    expect((await services.policies.get(admin, 'user-account-access')).retention).toBe('P2Y');
    expect(await auditLength()).toBe(audit);

    const real = await apply(changed);
    expect(real.summary).toEqual(dry.summary);
    expect((await services.policies.get(admin, 'user-account-access')).retention).toBe('P3Y');
  });

  it('prune removes what the manifest no longer lists, retires policies, and a dry run shows it first', async () => {
    await apply(companyManifest());
    const smaller = companyManifest();
    smaller.flows = smaller.flows!.filter((f) => f.to !== 'analytics-vendor');
    smaller.systems = smaller.systems!.filter((s) => s.name !== 'analytics-vendor');
    smaller.policies = smaller.policies!.filter((p) => p.name !== 'send-marketing-email');
    smaller.clients = [];
    delete smaller.sources;
    delete smaller.connectors;

    // Without --prune, leaving entries out removes nothing.
    expect((await apply(smaller)).summary.removed).toBe(0);

    const dry = await apply(smaller, { dryRun: true, prune: true });
    const removed = dry.changes.filter((c) => c.action === 'removed').map((c) => `${c.section}/${c.name}`);
    expect(removed.sort()).toEqual([
      'clients/accounts-http',
      'clients/orders-ticket',
      'connectors/accounts-db',
      'flows/warehouse -> analytics-vendor',
      'policies/send-marketing-email',
      'sources/prometheus-main',
      'systems/analytics-vendor',
    ]);
    expect(await services.discovery.list(admin)).toHaveLength(1);

    await apply(smaller, { prune: true });
    expect((await services.systems.list(admin)).map((s) => s.name)).not.toContain('analytics-vendor');
    expect((await services.policies.get(admin, 'send-marketing-email')).status).toBe('retired');
    expect(await services.datamap.listClients(admin)).toEqual([]);
    expect(await services.discovery.list(admin)).toEqual([]);
    // Pruning again finds nothing more to remove (a retired policy stays retired, not "removed" again).
    expect((await apply(smaller, { prune: true })).summary.removed).toBe(0);
  });

  it('prune refuses to forget a system that still holds data, and keeps nothing of the run', async () => {
    await apply(companyManifest());
    await services.telemetry.ingest(admin, [
      {
        id: 'prune-1',
        subject: 'u-1',
        system: 'accounts',
        policy: 'user-account-access',
        fields: ['accounts.email'],
        at: new Date().toISOString(),
      },
    ]);
    const without = companyManifest();
    without.systems = without.systems!.filter((s) => s.name !== 'accounts');
    without.flows = without.flows!.filter((f) => f.from !== 'accounts');
    without.clients = without.clients!.filter((c) => c.system !== 'accounts');
    const error = await refusal(apply(without, { prune: true }));
    expect(error.code).toBe('SYSTEM_HOLDS_DATA');
    expect(error.status).toBe(409);
    expect(error.details).toMatchObject({ section: 'systems', name: 'accounts' });
    expect(error.message).toContain('user-account-access');
    // The flows and client removed before the refusal came back with the rollback.
    expect((await services.datamap.listFlows(admin)).some((f) => f.from === 'accounts')).toBe(true);
    expect((await services.datamap.listClients(admin)).map((c) => c.name)).toContain('accounts-http');
  });

  it('a refused entry is named by its path and rolls back the entries before it', async () => {
    const manifest = companyManifest();
    manifest.systems![3]!.datasets![0]!.fields[1]!.categories = ['user.financial.credit_cart'];
    const error = await refusal(apply(manifest));
    expect(error.code).toBe('UNKNOWN_CATEGORY');
    expect(error.details).toMatchObject({ path: 'systems[3]', section: 'systems', name: 'orders' });
    expect(error.message).toContain('user.financial.credit_cart');
    expect(await services.policies.list(admin)).toEqual([]);
    expect(await services.datamap.listTeams(admin)).toEqual([]);
  });

  it('names duplicates, flows to undeclared systems and malformed client addresses by path', async () => {
    const duplicate = companyManifest();
    duplicate.teams!.push({ name: 'growth' });
    expect((await refusal(apply(duplicate))).details).toMatchObject({ path: 'teams[4]' });

    const dangling = companyManifest();
    dangling.flows!.push({ from: 'orders', to: 'nowhere', categories: ['user.contact.address'] });
    const flow = await refusal(apply(dangling));
    expect(flow.code).toBe('SYSTEM_NOT_FOUND');
    expect(flow.details).toMatchObject({ path: 'flows[4]' });

    const client = companyManifest();
    client.clients![0]!.address = 'accounts.internal';
    const address = await refusal(apply(client));
    expect(address.code).toBe('INVALID_ADDRESS');
    expect(address.details).toMatchObject({ path: 'clients[0]' });
  });

  it('export gives back a manifest that applies unchanged, and exporting again gives the same', async () => {
    await apply(companyManifest());
    const exported = await services.manifests.export(admin);
    // Canonical: the entries come back as written (the fixture is already in name order).
    expect(exported).toEqual(companyManifest());
    const again = await apply(exported, { prune: true });
    expect(again.summary).toMatchObject({ created: 0, changed: 0, removed: 0, kept: 0 });
    expect(await services.manifests.export(admin)).toEqual(exported);
  });

  it('a taxonomy key still used by a field cannot be dropped', async () => {
    await apply(companyManifest());
    const manifest = companyManifest();
    delete manifest.taxonomy!.categories;
    const error = await refusal(apply(manifest));
    expect(error.code).toBe('UNKNOWN_CATEGORY');
    expect(error.message).toContain('user.contact.email.marketing');
  });

  it('a dpo may apply policies and systems but not discovery sources or connectors; an auditor may export only', async () => {
    const dpo: Principal = { id: 'dpo-1', role: 'dpo', requestId: 'test' };
    const auditor: Principal = { id: 'auditor-1', role: 'auditor', requestId: 'test' };
    const error = await refusal(apply(companyManifest(), {}, dpo));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.details).toMatchObject({ path: 'sources[0]' });
    const withoutSources = companyManifest();
    delete withoutSources.sources;
    const connectorError = await refusal(apply(withoutSources, {}, dpo));
    expect(connectorError.details).toMatchObject({ path: 'connectors[0]' });
    delete withoutSources.connectors;
    expect((await apply(withoutSources, {}, dpo)).summary.created).toBe(21);
    expect((await refusal(apply(withoutSources, {}, auditor))).code).toBe('FORBIDDEN');
    expect((await services.manifests.export(auditor)).systems).toHaveLength(6);
  });
});
