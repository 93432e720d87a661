import type { Job, JobListQuery, PolicyRecompute } from '@lethe/api';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { toIso } from '../lib/time.js';
import { recomputeResult } from '../retention/recompute-job.js';
import type { Store } from '../store/store.js';
import type { JobRow } from './job-tables.js';

/** Reading background jobs: one by id, or the latest ones by state. */
export class JobService {
  constructor(private readonly store: Store) {}

  async get(principal: Principal, id: string): Promise<Job> {
    authorize(principal, 'jobs:read');
    const row = await this.store.repository.jobs.get(id);
    if (!row) throw new AppError('JOB_NOT_FOUND', `No job "${id}".`);
    return jobRowToJob(row);
  }

  async list(principal: Principal, query: JobListQuery): Promise<Job[]> {
    authorize(principal, 'jobs:read');
    const rows = await this.store.repository.jobs.list({ state: query.state, limit: query.limit ?? 100 });
    return rows.map(jobRowToJob);
  }
}

export function jobRowToJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: 'retention-recompute',
    state: row.state,
    policy: row.target,
    policyVersion: row.target_version,
    progress: jobProgress(row),
    ...(row.result !== null ? { result: recomputeResult(row.result) } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.superseded_by !== null ? { supersededBy: row.superseded_by } : {}),
    createdBy: row.created_by,
    createdAt: toIso(row.created_at),
    ...(row.started_at !== null ? { startedAt: toIso(row.started_at) } : {}),
    ...(row.finished_at !== null ? { finishedAt: toIso(row.finished_at) } : {}),
  };
}

/** What a policy shows of its open recompute. */
export function jobRowToRecompute(row: JobRow): PolicyRecompute {
  return { job: row.id, state: row.state, progress: jobProgress(row) };
}

function jobProgress(row: JobRow): Job['progress'] {
  return { done: row.done, ...(row.total !== null ? { total: row.total } : {}) };
}
