import type { Manifest } from '@lethe/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LETHE_ITSELF, type Principal } from '../src/auth/principal.js';
import { AppError } from '../src/lib/app-error.js';
import type { Services } from '../src/services.js';
import { ALL_BACKENDS, availableBackends, openServices } from './support/backends.js';
import { companyManifest } from './support/company-manifest.js';

const available = await availableBackends();
const admin = LETHE_ITSELF;
const dpo: Principal = { id: 'dpo-anna', role: 'dpo' };
const plainAuditor: Principal = { id: 'auditor-1', role: 'auditor' };

type HoldEntry = NonNullable<Manifest['holds']>[number];

/** Two holds over the company manifest's map: one by system and policy, one naming subjects. */
const LITIGATION: HoldEntry = {
  name: 'litigation-42',
  reason: 'Smith v. Acme, case 42',
  systems: ['accounts'],
  policies: ['user-account-access'],
  reviewAt: '2027-01-31T00:00:00.000Z',
};
const INQUIRY: HoldEntry = { name: 'dpa-inquiry', reason: 'DPA inquiry 2026-17', subjects: ['u-2', 'u-1'] };
const HOLDS = [LITIGATION, INQUIRY];

const withHolds = (holds: Manifest['holds'] = HOLDS): Manifest => ({ ...companyManifest(), holds });

/** Legal holds in manifests (docs/manifests.md "Legal holds"), on every backend. */
describe.each(ALL_BACKENDS)('manifest holds: $name', (backend) => {
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

  const apply = (manifest: Manifest, options: { dryRun?: boolean; prune?: boolean } = {}, as = admin) =>
    services.manifests.apply(as, manifest, options);
  const holdChanges = (result: { changes: { section: string; name: string; action: string }[] }) =>
    result.changes.filter((c) => c.section === 'holds').map((c) => `${c.name} ${c.action}`);
  const holdAudit = async () => {
    const entries = await services.store.repository.audit.entries(0, 10_000);
    return entries.filter((e) => e.target.startsWith('hold:')).map((e) => `${e.action} ${e.target}`);
  };

  it('places the holds with an audit entry, and applying twice changes nothing', async () => {
    // The map needs an admin (discovery sources); a DPO may place holds by manifest.
    await apply(companyManifest());
    const first = await apply({ holds: HOLDS }, {}, dpo);
    expect(holdChanges(first)).toEqual(['litigation-42 created', 'dpa-inquiry created']);
    expect(await holdAudit()).toEqual(['hold.place hold:litigation-42', 'hold.place hold:dpa-inquiry']);
    const placed = await services.holds.get(admin, 'litigation-42');
    expect(placed).toMatchObject({ createdBy: 'dpo-anna', reviewAt: '2027-01-31T00:00:00.000Z' });

    const second = await apply(withHolds(), {}, admin);
    expect(holdChanges(second)).toEqual(['litigation-42 unchanged', 'dpa-inquiry unchanged']);
    expect(second.summary).toMatchObject({ created: 0, changed: 0, removed: 0, kept: 0 });
    expect(await holdAudit()).toHaveLength(2);
    // Nobody changed it: it still says who placed it and who last changed it.
    expect(await services.holds.get(admin, 'litigation-42')).toEqual(placed);
  });

  it('changes a hold whose terms changed, keeping who placed it and since when', async () => {
    await apply(companyManifest());
    await apply({ holds: HOLDS }, {}, dpo);
    const before = await services.holds.get(admin, 'litigation-42');
    const changed = await apply(withHolds([{ ...LITIGATION, reason: 'Smith v. Acme, appeal' }, INQUIRY]));
    expect(holdChanges(changed)).toEqual(['litigation-42 changed', 'dpa-inquiry unchanged']);
    expect(await services.holds.get(admin, 'litigation-42')).toMatchObject({
      reason: 'Smith v. Acme, appeal',
      createdBy: 'dpo-anna',
      createdAt: before.createdAt,
      updatedBy: 'lethe',
    });
    expect((await holdAudit()).at(-1)).toBe('hold.change hold:litigation-42');
  });

  it('never releases a hold the manifest omits, even with prune: it is reported as kept', async () => {
    await apply(withHolds());
    for (const dryRun of [true, false]) {
      const pruned = await apply(withHolds([LITIGATION]), { prune: true, dryRun });
      expect(holdChanges(pruned)).toEqual(['litigation-42 unchanged', 'dpa-inquiry kept']);
      expect(pruned.summary).toMatchObject({ removed: 0, kept: 1 });
      expect(pruned.changes.find((c) => c.action === 'kept')?.notes).toEqual([
        'kept (release with DELETE /v1/holds/dpa-inquiry or `lethe holds release dpa-inquiry`)',
      ]);
    }
    // A manifest without any holds section keeps both as well.
    const { holds: _none, ...bare } = withHolds();
    const bareResult = await apply(bare, { prune: true });
    expect(holdChanges(bareResult)).toEqual(['dpa-inquiry kept', 'litigation-42 kept']);
    expect((await services.holds.list(admin)).map((h) => h.name)).toEqual(['dpa-inquiry', 'litigation-42']);
    expect(await holdAudit()).not.toContain('hold.release hold:dpa-inquiry');
    // Without prune an omitted hold is not mentioned at all, like any other unlisted entry.
    expect(holdChanges(await apply(bare))).toEqual([]);
  });

  it('exports the holds so that applying the export with prune changes nothing', async () => {
    await apply(withHolds());
    const exported = await services.manifests.export(admin);
    expect(exported.holds).toEqual([
      { name: 'dpa-inquiry', reason: 'DPA inquiry 2026-17', subjects: ['u-1', 'u-2'] },
      LITIGATION,
    ]);
    const back = await apply(exported, { prune: true });
    expect(back.summary).toMatchObject({ created: 0, changed: 0, removed: 0, kept: 0 });
    expect(holdChanges(back)).toEqual(['dpa-inquiry unchanged', 'litigation-42 unchanged']);
    expect(await services.manifests.export(admin)).toEqual(exported);
  });

  it('leaves out of an export a hold whose subjects the token may not see', async () => {
    await apply(withHolds());
    // Pseudonyms applied back would aim the hold at nobody; an omitted hold is never released.
    expect((await services.manifests.export(plainAuditor)).holds?.map((h) => h.name)).toEqual([
      'litigation-42',
    ]);
  });

  it('refuses a hold over a system the map does not have, naming its path, and keeps nothing', async () => {
    const error = await apply(withHolds([{ name: 'typo', reason: 'case 7', systems: ['acounts'] }])).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'SYSTEM_NOT_FOUND', details: { path: 'holds[0]' } });
    expect(await services.holds.list(admin)).toEqual([]);
    expect(await services.store.repository.datamap.listTeams()).toEqual([]);
  });

  it('refuses a duplicate hold name', async () => {
    await expect(apply(withHolds([LITIGATION, { ...LITIGATION, reason: 'other' }]))).rejects.toMatchObject({
      code: 'DUPLICATE_NAME',
      details: { path: 'holds[1]' },
    });
  });
});
