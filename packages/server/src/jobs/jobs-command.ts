import { parseArgs } from 'node:util';
import type { Job, JobState } from '@lethe/api';
import { LetheClient } from '@lethe/client';
import { clientSettings, UsageError, usageErrors } from '../cli/args.js';

export const JOBS_USAGE = 'lethe jobs [JOB_ID [--wait]] [--state queued|running|done|failed|superseded]';

const STATES: readonly JobState[] = ['queued', 'running', 'done', 'failed', 'superseded'];
const WAIT_POLL_MS = 500;

/**
 * Background jobs (retention recomputes): the latest ones as a table, or one by id as JSON;
 * with `--wait`, follows the job until it ends (exit 1 when it failed).
 */
export async function jobsCommand(args: string[]): Promise<void> {
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args,
      options: { state: { type: 'string' }, wait: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    }),
  );
  const state = values.state as JobState | undefined;
  if (state !== undefined && !STATES.includes(state))
    throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
  if (positionals.length > 1) throw new UsageError('give at most one job id');
  const client = new LetheClient(clientSettings());
  const id = positionals[0];
  if (id === undefined) {
    if (values.wait) throw new UsageError('--wait needs a job id');
    const { items } = await client.listJobs(state ? { state } : {});
    process.stdout.write('id\tstate\tpolicy\tversion\tprogress\tcreatedAt\n');
    for (const job of items)
      process.stdout.write(
        `${job.id}\t${job.state}\t${job.policy}\t${job.policyVersion}\t${progress(job)}\t${job.createdAt}\n`,
      );
    return;
  }
  let job = await client.getJob(id);
  while (values.wait && (job.state === 'queued' || job.state === 'running')) {
    process.stderr.write(`${job.state} ${progress(job)}\n`);
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    job = await client.getJob(id);
  }
  process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
  if (job.state === 'failed') process.exitCode = 1;
}

function progress(job: Job): string {
  return job.progress.total === undefined
    ? String(job.progress.done)
    : `${job.progress.done}/${job.progress.total}`;
}
