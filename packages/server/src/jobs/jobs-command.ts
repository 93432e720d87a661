import type { Command } from 'commander';
import type { Job, JobState } from '@lethe/api';
import { LetheClient } from '@lethe/client';
import { choiceOption, clientSettings, jsonFlag, printJson, UsageError } from '../cli/args.js';

const STATES: readonly JobState[] = ['queued', 'running', 'done', 'failed', 'superseded'];
const WAIT_POLL_MS = 500;

interface JobsOptions {
  state?: JobState;
  wait?: boolean;
  json?: boolean;
}

export function registerJobs(program: Command): void {
  program
    .command('jobs')
    .description('background jobs (retention recomputes): the latest as a table, or one by id as JSON')
    .argument('[job-id]', 'one job, printed as JSON')
    .addOption(choiceOption('--state <state>', 'only jobs in this state', STATES))
    .option('--wait', 'follow the job until it ends (exit 1 when it failed)')
    .addOption(jsonFlag())
    .action((id: string | undefined, options: JobsOptions) => jobsCommand(id, options));
}

/**
 * Background jobs (retention recomputes): the latest ones as a table, or one by id as JSON;
 * with `--wait`, follows the job until it ends (exit 1 when it failed).
 */
async function jobsCommand(id: string | undefined, values: JobsOptions): Promise<void> {
  const state = values.state;
  if (id === undefined && values.wait) throw new UsageError('--wait needs a job id');
  const client = new LetheClient(clientSettings());
  if (id === undefined) {
    const page = await client.listJobs(state ? { state } : {});
    if (values.json) return printJson(page);
    const { items } = page;
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
  printJson(job);
  if (job.state === 'failed') process.exitCode = 1;
}

function progress(job: Job): string {
  return job.progress.total === undefined
    ? String(job.progress.done)
    : `${job.progress.done}/${job.progress.total}`;
}
