import type { Policy, PolicyInput, PolicyVersion, RetentionPreview } from '@lethe/api';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { addDuration } from '../lib/duration.js';
import { requireDuration, validatePolicyInput } from './policy-rules.js';
import { toIso } from '../lib/time.js';
import { requirePurpose } from '../lib/taxonomy.js';
import { loadTaxonomies } from '../datamap/datamap-snapshot.js';
import type { Repository } from '../store/repository.js';
import type { PolicyRow, PolicyVersionRow } from './retention-tables.js';
import type { Store } from '../store/store.js';
import { audit } from '../audit/audit-trail.js';
import { CatalogView, type CatalogCache } from './catalog-cache.js';
import { recomputePolicyExpiries } from './retention-recompute.js';

export interface PolicyWrite {
  readonly policy: Policy;
  readonly created: boolean;
  /** False when the stored policy already had this content (nothing was written). */
  readonly changed: boolean;
  /** Subject-fields whose expiry moved because the retention changed. */
  readonly recomputed: number;
}

export class PolicyService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogCache,
  ) {}

  async list(principal: Principal): Promise<Policy[]> {
    authorize(principal, 'policies:read');
    return (await this.store.repository.retention.listPolicies()).map(policyRowToPolicy);
  }

  async get(principal: Principal, name: string): Promise<Policy> {
    authorize(principal, 'policies:read');
    return policyRowToPolicy(await this.require(name));
  }

  async versions(principal: Principal, name: string): Promise<PolicyVersion[]> {
    authorize(principal, 'policies:read');
    const rows = await this.store.repository.retention.listPolicyVersions(name);
    if (rows.length === 0) throw new AppError('POLICY_NOT_FOUND', `No policy named "${name}".`);
    return rows.map(policyVersionRowToVersion);
  }

  /**
   * Creates or replaces a policy. A change of retention recomputes every affected expiry in the
   * same transaction. Putting the same content again changes nothing (no new version), so
   * manifests can be applied repeatedly; putting a retired policy brings it back.
   */
  async put(principal: Principal, name: string, input: PolicyInput): Promise<PolicyWrite> {
    authorize(principal, 'policies:write');
    const result = await this.store.transaction(
      (repository) => this.putIn(repository, principal, name, input),
      {
        exclusiveCatalog: true,
      },
    );
    await this.catalog.reload();
    return result;
  }

  /** `put` inside a caller's transaction (which must hold the catalog lock); the caller reloads the cache. */
  async putIn(
    repository: Repository,
    principal: Principal,
    name: string,
    input: PolicyInput,
  ): Promise<PolicyWrite> {
    authorize(principal, 'policies:write');
    const valid = validatePolicyInput(input);
    requirePurpose((await loadTaxonomies(repository)).purposes, valid.purpose, `policy ${name}`);
    const previous = await repository.retention.getPolicy(name);
    const now = Date.now();
    const next: PolicyRow = {
      name,
      purpose: valid.purpose,
      retention: valid.retention,
      legal_basis: valid.legalBasis,
      description: valid.description ?? null,
      data_subjects: input.dataSubjects?.length ? JSON.stringify(input.dataSubjects) : null,
      reviewed_on: input.reviewedOn ?? null,
      version: (previous?.version ?? 0) + 1,
      status: 'active',
      created_at: previous?.created_at ?? now,
      updated_at: now,
      retired_at: null,
    };
    if (previous && samePolicyContent(previous, next)) {
      return { policy: policyRowToPolicy(previous), created: false, changed: false, recomputed: 0 };
    }
    await repository.retention.savePolicy(next, principal.id);
    await audit(repository, principal, 'policy.put', `policy:${name}`);
    let recomputed = 0;
    // Retention and, through consent, legal basis and purpose decide expiries (docs/consent.md).
    if (
      previous &&
      (previous.retention !== next.retention ||
        previous.legal_basis !== next.legal_basis ||
        previous.purpose !== next.purpose)
    ) {
      // Read the catalog through the transaction: it holds the catalog lock (and, on SQLite,
      // the only connection); it already holds the saved policy.
      const view = new CatalogView(await repository.retention.loadCatalog());
      recomputed = (await recomputePolicyExpiries(repository, name, view, true)).changed;
    }
    return { policy: policyRowToPolicy(next), created: !previous, changed: true, recomputed };
  }

  /** Retires a policy: it stays for history and for the expiries it decided; new uses are rejected. */
  async retire(principal: Principal, name: string): Promise<Policy> {
    authorize(principal, 'policies:write');
    const result = await this.store.transaction((repository) => this.retireIn(repository, principal, name), {
      exclusiveCatalog: true,
    });
    await this.catalog.reload();
    return result.policy;
  }

  /** `retire` inside a caller's transaction; `changed` is false when it was retired already. */
  async retireIn(
    repository: Repository,
    principal: Principal,
    name: string,
  ): Promise<{ policy: Policy; changed: boolean }> {
    authorize(principal, 'policies:write');
    const previous = await repository.retention.getPolicy(name);
    if (!previous) throw new AppError('POLICY_NOT_FOUND', `No policy named "${name}".`);
    if (previous.status === 'retired') return { policy: policyRowToPolicy(previous), changed: false };
    const now = Date.now();
    const retired: PolicyRow = {
      ...previous,
      version: previous.version + 1,
      status: 'retired',
      updated_at: now,
      retired_at: now,
    };
    await repository.retention.savePolicy(retired, principal.id);
    await audit(repository, principal, 'policy.retire', `policy:${name}`);
    return { policy: policyRowToPolicy(retired), changed: true };
  }

  /** What a retention change would do, without doing it. */
  async preview(principal: Principal, name: string, retention: string): Promise<RetentionPreview> {
    authorize(principal, 'policies:read');
    const duration = requireDuration(retention);
    const current = await this.require(name);
    const view = await this.catalog.current();
    await this.store.freshAggregates();
    const retentionEnd = (policy: string, lastUseAt: number) =>
      policy === name ? addDuration(lastUseAt, duration) : view.retentionEnd(policy, lastUseAt);
    const summary = await recomputePolicyExpiries(
      this.store.repository,
      name,
      { retentionEnd, consentPurpose: view.consentPurpose },
      false,
    );
    return {
      policy: name,
      currentRetention: current.retention,
      retention,
      subjectFieldsUsingPolicy: summary.usingPolicy,
      subjectFieldsChanged: summary.changed,
      subjectFieldsEarlier: summary.earlier,
      subjectFieldsLater: summary.later,
      ...(summary.earliestNewExpiry !== undefined
        ? { earliestNewExpiry: toIso(summary.earliestNewExpiry) }
        : {}),
      ...(summary.latestNewExpiry !== undefined ? { latestNewExpiry: toIso(summary.latestNewExpiry) } : {}),
    };
  }

  private async require(name: string): Promise<PolicyRow> {
    const row = await this.store.repository.retention.getPolicy(name);
    if (!row) throw new AppError('POLICY_NOT_FOUND', `No policy named "${name}".`);
    return row;
  }
}

function samePolicyContent(a: PolicyRow, b: PolicyRow): boolean {
  return (
    a.purpose === b.purpose &&
    a.retention === b.retention &&
    a.legal_basis === b.legal_basis &&
    a.description === b.description &&
    a.data_subjects === b.data_subjects &&
    a.reviewed_on === b.reviewed_on &&
    a.status === b.status
  );
}

export function policyRowToPolicy(row: PolicyRow): Policy {
  return {
    name: row.name,
    purpose: row.purpose,
    retention: row.retention,
    legalBasis: row.legal_basis,
    ...(row.description !== null ? { description: row.description } : {}),
    ...(row.data_subjects !== null ? { dataSubjects: JSON.parse(row.data_subjects) as string[] } : {}),
    ...(row.reviewed_on !== null ? { reviewedOn: row.reviewed_on } : {}),
    version: row.version,
    status: row.status,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    ...(row.retired_at !== null ? { retiredAt: toIso(row.retired_at) } : {}),
  };
}

function policyVersionRowToVersion(row: PolicyVersionRow): PolicyVersion {
  return {
    name: row.name,
    version: row.version,
    purpose: row.purpose,
    retention: row.retention,
    legalBasis: row.legal_basis,
    ...(row.description !== null ? { description: row.description } : {}),
    status: row.status,
    changedAt: toIso(row.changed_at),
    changedBy: row.changed_by,
  };
}
