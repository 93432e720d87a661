import { randomBytes } from 'node:crypto';
import type { RecomputeResult } from '@lethe/api';
import type { JobKind } from '../jobs/job-kind.js';
import type { JobRow } from '../jobs/job-tables.js';
import type { Repository } from '../store/repository.js';
import { CatalogView } from './catalog-cache.js';
import {
  emptySummary,
  recomputePolicyChunk,
  summaryInWords,
  type RecomputeSummary,
} from './retention-recompute.js';
import type { SubjectField } from './retention-queries.js';

export const RECOMPUTE_JOB = 'retention-recompute';
/** Subject-fields per step: one transaction each, short enough not to hold ingest up. */
export const DEFAULT_RECOMPUTE_CHUNK = 500;

/**
 * Records a recompute of `policy`'s expiries for its version `version`, in the caller's
 * transaction (the policy change's): an open recompute of the same policy is superseded, since
 * the new job walks every subject-field again with the version then in force.
 */
export async function scheduleRecompute(
  repository: Repository,
  request: { policy: string; version: number; by: string; now: number },
): Promise<JobRow> {
  const job: JobRow = {
    id: `job_${randomBytes(16).toString('hex')}`,
    kind: RECOMPUTE_JOB,
    target: request.policy,
    target_version: request.version,
    state: 'queued',
    done: 0,
    total: null,
    checkpoint: null,
    result: null,
    error: null,
    attempts: 0,
    superseded_by: null,
    created_by: request.by,
    created_at: request.now,
    started_at: null,
    finished_at: null,
    lease_owner: null,
    lease_until: null,
  };
  await repository.jobs.insert(job);
  await repository.jobs.supersede(RECOMPUTE_JOB, request.policy, job.id, request.now);
  return job;
}

/**
 * The recompute as a job kind: each step recomputes the next chunk of subject-fields using the
 * policy (key order, the last key as checkpoint) with the catalog read in the step's transaction,
 * so every chunk uses the version in force. The step runs with `freshAggregates`: the journal is
 * folded first and no fold commits between the step's reads of usages and its writes of expiries
 * (the fold lock is held on PostgreSQL, the write lock on SQLite). A fold between steps computes
 * its candidates with the new catalog and keeps the greater expiry: a field not reached yet is
 * recomputed from its usages when it is, and one already recomputed stays exact (docs/retention.md).
 */
export function recomputeJobKind(chunk = DEFAULT_RECOMPUTE_CHUNK): JobKind {
  return {
    kind: RECOMPUTE_JOB,
    transaction: { freshAggregates: true },
    total: (repository, job) => repository.retention.countPairsUsingPolicy(job.target),
    async step(repository, job) {
      const summary = job.result === null ? emptySummary() : (JSON.parse(job.result) as RecomputeSummary);
      const after = job.checkpoint === null ? undefined : (JSON.parse(job.checkpoint) as SubjectField);
      const rules = new CatalogView(await repository.retention.loadCatalog());
      const { last, finished } = await recomputePolicyChunk(
        repository,
        { policy: job.target, rules, after, limit: chunk, write: true },
        summary,
      );
      return {
        checkpoint: (last ?? after) ? JSON.stringify(last ?? after) : null,
        done: summary.usingPolicy,
        result: JSON.stringify(summary),
        finished,
      };
    },
  };
}

/** A recompute job's stored summary in the words of the preview. */
export function recomputeResult(stored: string): RecomputeResult {
  return summaryInWords(JSON.parse(stored) as RecomputeSummary);
}
