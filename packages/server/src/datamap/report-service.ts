import type { RopaReport } from '@lethe/api';
import { authorize, requireAllCategories } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { buildRopa } from './ropa.js';
import type { Store } from '../store/store.js';
import { snapshotOf, taxonomiesOf } from './datamap-snapshot.js';
import { policyRowToPolicy } from '../retention/policy-service.js';

/** Reports over the whole map; they name every category, so they need a token without category limits. */
export class ReportService {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** The GDPR Art. 30(1) record of processing activities, one row per policy. */
  async ropa(principal: Principal): Promise<RopaReport> {
    authorize(principal, 'reports:read');
    requireAllCategories(principal, 'The record of processing lists every category');
    await this.store.freshAggregates();
    const { datamap } = this.store.repository;
    const [organisation, policies, rows, links, taxonomyRows] = await Promise.all([
      datamap.organisation(),
      this.store.repository.retention.listPolicies(),
      datamap.loadRows(),
      datamap.listUsageLinks(),
      datamap.listTaxonomyEntries(),
    ]);
    const now = this.now();
    const { categories, purposes } = taxonomiesOf(taxonomyRows);
    return buildRopa({
      ...(organisation !== undefined ? { organisation } : {}),
      policies: policies.map((row) => {
        const {
          createdAt: _c,
          updatedAt: _u,
          retiredAt: _r,
          version: _v,
          ...policy
        } = policyRowToPolicy(row);
        return { ...policy, updatedAt: row.updated_at };
      }),
      snapshot: snapshotOf(rows, now).snapshot,
      usageLinks: links.map((link) => ({
        system: link.system,
        field: link.field,
        policy: link.policy,
        firstUseAt: link.first_use_at,
        lastUseAt: link.last_use_at,
        count: link.use_count,
      })),
      categories,
      purposes,
      now,
    });
  }
}
