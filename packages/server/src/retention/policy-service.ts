import type { Policy, PolicyInput, PolicyVersion, RetentionPreview } from '@lethe/api';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { addDuration } from '../lib/duration.js';
import { requireDuration, validatePolicyInput } from './policy-rules.js';
import { requireAging } from './aging/aging.js';
import { toIso } from '../lib/time.js';
import { requirePurpose } from '../lib/taxonomy.js';
import { loadTaxonomies } from '../datamap/datamap-snapshot.js';
import type { Repository } from '../store/repository.js';
import type { PolicyRow, PolicyVersionRow } from './retention-tables.js';
import type { Store } from '../store/store.js';
import { audit } from '../audit/audit-trail.js';
import type { CatalogCache } from './catalog-cache.js';
import { recomputePolicyExpiries, summaryInWords } from './retention-recompute.js';
import { RECOMPUTE_JOB, scheduleRecompute } from './recompute-job.js';
import { OPEN_JOB_STATES, type JobRow } from '../jobs/job-tables.js';
import { jobRowToRecompute } from '../jobs/job-service.js';
import { PreviewTally } from './preview-tally.js';
import { standingHolds } from './holds/hold-service.js';
import { candidate } from './holds/feed-marks.js';
import { holdOf } from './holds/hold-rules.js';
import type { CatalogView } from './catalog-cache.js';
import type { SubjectField } from './retention-queries.js';

export interface PolicyWrite {
  /** With `recompute` when the change scheduled a recompute of the policy's expiries. */
  readonly policy: Policy;
  readonly created: boolean;
  /** False when the stored policy already had this content (nothing was written). */
  readonly changed: boolean;
}

/** How policy changes hand recomputes to the job runner. */
export interface RecomputeSettings {
  /** Called once a scheduled recompute is committed: the job runner takes it up at once. */
  readonly scheduled: () => void;
  /** How long `PUT` waits for its recompute to end before answering with its progress. */
  readonly waitMs: number;
}

/** The default of `RecomputeSettings.waitMs` (`recomputeWaitMs` of `createLethe`). */
export const DEFAULT_RECOMPUTE_WAIT_MS = 2_000;
const SETTLE_POLL_MS = 20;

export class PolicyService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogCache,
    private readonly recomputes: RecomputeSettings = { scheduled: () => {}, waitMs: 0 },
  ) {}

  async list(principal: Principal): Promise<Policy[]> {
    authorize(principal, 'policies:read');
    const repository = this.store.repository;
    const [rows, open] = await Promise.all([
      repository.retention.listPolicies(),
      repository.jobs.open(RECOMPUTE_JOB),
    ]);
    return rows.map((row) => policyRowToPolicy(row, latestOf(open, row.name)));
  }

  async get(principal: Principal, name: string): Promise<Policy> {
    authorize(principal, 'policies:read');
    const row = await this.require(name);
    const open = await this.store.repository.jobs.open(RECOMPUTE_JOB, [name]);
    return policyRowToPolicy(row, latestOf(open, name));
  }

  /** Takes up recomputes that a caller's transaction (a manifest) scheduled, once it committed. */
  recomputesCommitted(): void {
    this.recomputes.scheduled();
  }

  async versions(principal: Principal, name: string): Promise<PolicyVersion[]> {
    authorize(principal, 'policies:read');
    const rows = await this.store.repository.retention.listPolicyVersions(name);
    if (rows.length === 0) throw new AppError('POLICY_NOT_FOUND', `No policy named "${name}".`);
    return rows.map(policyVersionRowToVersion);
  }

  /**
   * Creates or replaces a policy. A change of retention (or legal basis, or purpose) schedules a
   * recompute of every affected expiry as a background job in the same transaction, and the
   * answer carries it (`policy.recompute`). Putting the same content again changes nothing (no new
   * version), so manifests can be applied repeatedly; putting a retired policy brings it back.
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
    const scheduled = result.policy.recompute;
    if (!scheduled) return result;
    this.recomputes.scheduled();
    const settled = await this.settle(scheduled.job);
    return settled
      ? { ...result, policy: { ...result.policy, recompute: jobRowToRecompute(settled) } }
      : result;
  }

  /**
   * Waits up to `waitMs` for a recompute to end (wherever it runs), so that a small change answers
   * with its recompute done; a large one answers with its progress. The job is not held up by it.
   */
  private async settle(id: string): Promise<JobRow | undefined> {
    if (this.recomputes.waitMs <= 0) return undefined;
    const deadline = Date.now() + this.recomputes.waitMs;
    for (;;) {
      const job = await this.store.repository.jobs.get(id);
      if (!job || !OPEN_JOB_STATES.includes(job.state) || Date.now() >= deadline) return job;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
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
    const reason = input.reason?.trim() || null;
    requirePurpose((await loadTaxonomies(repository)).purposes, valid.purpose, `policy ${name}`);
    const previous = await repository.retention.getPolicy(name);
    const now = Date.now();
    const next: PolicyRow = {
      name,
      purpose: valid.purpose,
      retention: valid.retention,
      legal_basis: valid.legalBasis,
      since: valid.since,
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
      return { policy: policyRowToPolicy(previous), created: false, changed: false };
    }
    // A change that moves expiries is a decision someone must be able to explain later
    // (docs/retention.md, "Retention changes"); creating a policy moves none.
    if (previous && movesExpiries(previous, next) && reason === null) {
      throw new AppError(
        'POLICY_CHANGE_REASON_REQUIRED',
        `Changing the retention, since or legal basis of policy "${name}" (or the purpose of a consent-based one) needs a reason.`,
      );
    }
    await repository.retention.savePolicy(next, principal.id, reason);
    await audit(repository, principal, 'policy.put', policyAuditTarget(next, reason));
    let recompute: JobRow | undefined;
    // Retention, what it counts from and, through consent, legal basis and purpose decide
    // expiries (docs/consent.md, docs/retention.md "Aging").
    if (previous && (movesExpiries(previous, next) || previous.purpose !== next.purpose)) {
      // Off the request path (docs/retention.md, "Retention changes"); this transaction folded
      // the journal, so every event validated against the previous version is in the aggregates.
      recompute = await scheduleRecompute(repository, {
        policy: name,
        version: next.version,
        by: principal.id,
        now,
      });
    }
    return { policy: policyRowToPolicy(next, recompute), created: !previous, changed: true };
  }

  /**
   * Retires a policy: it stays for history and for the expiries it decided; new uses are rejected.
   * Like a change that moves expiries, it needs a reason, kept on the retired version and audited.
   */
  async retire(principal: Principal, name: string, reason: string | undefined): Promise<Policy> {
    authorize(principal, 'policies:write');
    const why = reason?.trim();
    if (!why) {
      throw new AppError('POLICY_CHANGE_REASON_REQUIRED', `Retiring policy "${name}" needs a reason.`);
    }
    const result = await this.store.transaction(
      (repository) => this.retireIn(repository, principal, name, why),
      { exclusiveCatalog: true },
    );
    await this.catalog.reload();
    return result.policy;
  }

  /** `retire` inside a caller's transaction; `changed` is false when it was retired already. */
  async retireIn(
    repository: Repository,
    principal: Principal,
    name: string,
    reason: string | null = null,
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
    await repository.retention.savePolicy(retired, principal.id, reason);
    await audit(repository, principal, 'policy.retire', policyAuditTarget(retired, reason));
    return { policy: policyRowToPolicy(retired), changed: true };
  }

  /** What a change of retention (and of what it counts from) would do, without doing it. */
  async preview(
    principal: Principal,
    name: string,
    change: { retention: string; since?: string },
  ): Promise<RetentionPreview> {
    authorize(principal, 'policies:read');
    const duration = requireDuration(change.retention);
    const current = await this.require(name);
    const since = change.since ?? current.since;
    const aging = requireAging(since);
    const view = await this.catalog.current();
    await this.store.freshAggregates();
    const retentionEnd = (policy: string, lastUseAt: number) =>
      policy === name ? addDuration(lastUseAt, duration) : view.retentionEnd(policy, lastUseAt);
    const agingOf = (policy: string) => (policy === name ? aging : view.agingOf(policy));
    const holds = await standingHolds(this.store.repository);
    const tally = new PreviewTally(Date.now(), {
      ownerOf: (field) => view.ownerOf(field),
      isHeld: (before, after) =>
        holds.length > 0 && holdOf(holds, candidate(view, { ...before, ...after })) !== undefined,
    });
    const summary = await recomputePolicyExpiries(
      this.store.repository,
      name,
      { retentionEnd, consentPurpose: view.consentPurpose, agingOf },
      false,
      { include: previewScope(principal, view), observe: tally.observe },
    );
    return {
      policy: name,
      currentRetention: current.retention,
      retention: change.retention,
      currentSince: current.since,
      since,
      ...summaryInWords(summary),
      subjectFieldsUnchanged: summary.usingPolicy - summary.changed,
      dueAtOnce: tally.dueAtOnce,
      heldAtOnce: tally.heldAtOnce,
      systems: tally.systems(),
    };
  }

  private async require(name: string): Promise<PolicyRow> {
    const row = await this.store.repository.retention.getPolicy(name);
    if (!row) throw new AppError('POLICY_NOT_FOUND', `No policy named "${name}".`);
    return row;
  }
}

/** Whether the change moves expiries by itself: retention, what it counts from, legal basis (consent). */
function movesExpiries(previous: PolicyRow, next: PolicyRow): boolean {
  // Under consent the purpose names the consent a use needs (docs/consent.md): changing it moves
  // expiries as surely as the retention does.
  const consentBased = previous.legal_basis === 'consent' || next.legal_basis === 'consent';
  return (
    previous.retention !== next.retention ||
    previous.since !== next.since ||
    previous.legal_basis !== next.legal_basis ||
    (consentBased && previous.purpose !== next.purpose)
  );
}

/** `policy:<name>`, with the version and the quoted reason when one was given: the entry says why on its own. */
function policyAuditTarget(row: PolicyRow, reason: string | null): string {
  return reason === null
    ? `policy:${row.name}`
    : `policy:${row.name} v${row.version} reason=${JSON.stringify(reason)}`;
}

/**
 * The subject-fields a preview counts for `principal`, like every other read: a service's own
 * system's fields, a category-limited token's visible ones; undefined when it sees them all.
 */
function previewScope(
  principal: Principal,
  view: CatalogView,
): ((pair: SubjectField) => boolean) | undefined {
  const visible = view.visibleFields(principal);
  const system = principal.role === 'service' ? (principal.system ?? '') : undefined;
  if (!visible && system === undefined) return undefined;
  return (pair) =>
    (!visible || visible.has(pair.field)) && (system === undefined || view.ownerOf(pair.field) === system);
}

function samePolicyContent(a: PolicyRow, b: PolicyRow): boolean {
  return (
    a.purpose === b.purpose &&
    a.retention === b.retention &&
    a.legal_basis === b.legal_basis &&
    a.since === b.since &&
    a.description === b.description &&
    a.data_subjects === b.data_subjects &&
    a.reviewed_on === b.reviewed_on &&
    a.status === b.status
  );
}

/** The latest open recompute of `policy` among `open` (an older one is superseded by it). */
function latestOf(open: readonly JobRow[], policy: string): JobRow | undefined {
  return open.filter((job) => job.target === policy).at(-1);
}

export function policyRowToPolicy(row: PolicyRow, recompute?: JobRow): Policy {
  return {
    name: row.name,
    purpose: row.purpose,
    retention: row.retention,
    legalBasis: row.legal_basis,
    since: row.since,
    ...(row.description !== null ? { description: row.description } : {}),
    ...(row.data_subjects !== null ? { dataSubjects: JSON.parse(row.data_subjects) as string[] } : {}),
    ...(row.reviewed_on !== null ? { reviewedOn: row.reviewed_on } : {}),
    version: row.version,
    status: row.status,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    ...(row.retired_at !== null ? { retiredAt: toIso(row.retired_at) } : {}),
    ...(recompute ? { recompute: jobRowToRecompute(recompute) } : {}),
  };
}

function policyVersionRowToVersion(row: PolicyVersionRow): PolicyVersion {
  return {
    name: row.name,
    version: row.version,
    purpose: row.purpose,
    retention: row.retention,
    legalBasis: row.legal_basis,
    since: row.since,
    ...(row.description !== null ? { description: row.description } : {}),
    status: row.status,
    changedAt: toIso(row.changed_at),
    changedBy: row.changed_by,
    ...(row.reason !== null ? { reason: row.reason } : {}),
  };
}
