import type { Repository } from '../store/repository.js';
import type { TransactionOptions } from '../store/store.js';
import type { JobRow } from './job-tables.js';

/** What one step of a job did, written in the step's transaction together with its work. */
export interface JobStep {
  /** Where the next step resumes (the kind's own JSON); ignored once `finished`. */
  readonly checkpoint: string | null;
  /** Units of work done so far, this step included. */
  readonly done: number;
  /** The kind's summary so far (JSON). */
  readonly result: string | null;
  readonly finished: boolean;
}

/**
 * A kind of background job: the runner claims, leases, checkpoints and finishes jobs; the kind
 * says how much work there is and does it a bounded step at a time from its checkpoint.
 */
export interface JobKind {
  readonly kind: string;
  /** What each step's transaction needs from the store (e.g. `freshAggregates`). */
  readonly transaction: TransactionOptions;
  /** The units of work, counted when the job starts (its progress total). */
  total(repository: Repository, job: JobRow): Promise<number>;
  /** One bounded step from `job.checkpoint`, in the runner's transaction. */
  step(repository: Repository, job: JobRow): Promise<JobStep>;
}
