import type { JobState } from '@lethe/api';

/** Background jobs. Row types as Kysely sees them; `store/schema.ts` joins them into `Database`. */
export interface JobTables {
  jobs: JobRow;
}

export type { JobState };
/** A job that still has work to do: a runner may claim it. */
export const OPEN_JOB_STATES: readonly JobState[] = ['queued', 'running'];

/**
 * One background job. `target`/`target_version` name what it works on (a policy and the version
 * that asked for it); `checkpoint` is the kind's own resume position (JSON), written in the same
 * transaction as the work it covers; `result` is the kind's summary so far (JSON); `done`/`total`
 * the progress. `lease_owner`/`lease_until` say which node runs it (or, after a failed step, when
 * it may be tried again).
 */
export interface JobRow {
  id: string;
  kind: string;
  target: string;
  target_version: number;
  state: JobState;
  done: number;
  total: number | null;
  checkpoint: string | null;
  result: string | null;
  error: string | null;
  /** Steps that failed in a row; the job fails for good at `MAX_JOB_ATTEMPTS`. */
  attempts: number;
  superseded_by: string | null;
  created_by: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
}
