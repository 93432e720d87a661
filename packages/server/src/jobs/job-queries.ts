import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { OPEN_JOB_STATES, type JobRow, type JobState } from './job-tables.js';

/** What a chunk of a job records with its work: the progress and where to resume. */
export interface JobCheckpoint {
  readonly done: number;
  readonly total: number | null;
  readonly checkpoint: string | null;
  readonly result: string | null;
}

/** The `jobs` table: durable background jobs, their progress and the lease of the node running each. */
export class JobQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: JobRow): Promise<void> {
    await this.db.insertInto('jobs').values(row).execute();
  }

  get(id: string): Promise<JobRow | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Newest first. */
  list(filter: { state?: JobState | undefined; limit: number }): Promise<JobRow[]> {
    let query = this.db
      .selectFrom('jobs')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit);
    if (filter.state) query = query.where('state', '=', filter.state);
    return query.execute();
  }

  /** The queued or running jobs of `kind`, for `targets` (every target when omitted). */
  open(kind: string, targets?: readonly string[]): Promise<JobRow[]> {
    let query = this.db
      .selectFrom('jobs')
      .selectAll()
      .where('kind', '=', kind)
      .where('state', 'in', OPEN_JOB_STATES)
      .orderBy('created_at');
    if (targets) {
      if (targets.length === 0) return Promise.resolve([]);
      query = query.where('target', 'in', targets);
    }
    return query.execute();
  }

  /** Ends the open jobs of (kind, target): `by` does their work again from the start. */
  async supersede(kind: string, target: string, by: string, now: number): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ state: 'superseded', superseded_by: by, finished_at: now, lease_owner: null, lease_until: null })
      .where('kind', '=', kind)
      .where('target', '=', target)
      .where('state', 'in', OPEN_JOB_STATES)
      .where('id', '!=', by)
      .execute();
  }

  /** The oldest open job nobody holds (or whose holder's lease ended before `now`). */
  claimable(now: number): Promise<JobRow | undefined> {
    return this.db
      .selectFrom('jobs')
      .selectAll()
      .where('state', 'in', OPEN_JOB_STATES)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
  }

  /**
   * Takes `job` for `owner` until `until` if it is still open and held by nobody else (or by a
   * lease that ended before `now`): compare-and-set, so two nodes never both get it.
   */
  async claim(job: JobRow, owner: string, now: number, until: number): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ state: 'running', started_at: job.started_at ?? now, lease_owner: owner, lease_until: until })
      .where('id', '=', job.id)
      .where('state', 'in', OPEN_JOB_STATES)
      .where((eb) =>
        job.lease_owner === null
          ? eb('lease_owner', 'is', null)
          : eb.and([eb('lease_owner', '=', job.lease_owner), eb('lease_until', '<', now)]),
      )
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Frees every open job's lease: on a store only this process opens, they are an earlier life's. */
  async releaseAll(): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ lease_owner: null, lease_until: null })
      .where('state', 'in', OPEN_JOB_STATES)
      .execute();
  }

  /** A step failed: the job keeps its lease until `retryAt`, when any node may try it again. */
  async retryLater(id: string, owner: string, failure: { error: string; attempts: number; retryAt: number }) {
    await this.db
      .updateTable('jobs')
      .set({ error: failure.error, attempts: failure.attempts, lease_until: failure.retryAt })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /**
   * Renews `owner`'s lease on a running job; false when the job is no longer its to run
   * (superseded, or taken over after the lease ended). On PostgreSQL the update locks the row
   * until the caller's transaction ends, so a superseding change waits for the chunk under way.
   */
  async renew(id: string, owner: string, until: number): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ lease_until: until })
      .where('id', '=', id)
      .where('state', '=', 'running')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async checkpoint(id: string, owner: string, progress: JobCheckpoint): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ ...progress, error: null, attempts: 0 })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async finish(
    id: string,
    owner: string,
    end: {
      state: 'done' | 'failed';
      error?: string;
      attempts?: number;
      now: number;
      progress?: JobCheckpoint;
    },
  ): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({
        ...end.progress,
        ...(end.attempts !== undefined ? { attempts: end.attempts } : {}),
        state: end.state,
        error: end.error ?? null,
        finished_at: end.now,
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', id)
      .where('state', '=', 'running')
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** Gives the job back (a node stopping): another node, or this one's next life, takes it at once. */
  async release(id: string, owner: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ lease_owner: null, lease_until: null })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }
}
