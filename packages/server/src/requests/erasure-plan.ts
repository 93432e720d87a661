import type { ErasurePlan } from '@lethe/api';
import { toIso } from '../lib/time.js';
import type { RequestTaskRow } from './request-tables.js';

/** What `request_tasks.erasure_plan` holds (JSON): the counts, the threshold, the tables held. */
export interface StoredErasurePlan {
  readonly rows: Readonly<Record<string, number>>;
  readonly threshold: number;
  readonly held: readonly string[];
}

/** A task's erasure plan for the API, with the approval given to it; undefined when it has none. */
export function erasurePlanView(task: RequestTaskRow): ErasurePlan | undefined {
  if (task.erasure_plan === null) return undefined;
  const plan = JSON.parse(task.erasure_plan) as StoredErasurePlan;
  return {
    rows: { ...plan.rows },
    threshold: plan.threshold,
    held: [...plan.held],
    ...(task.approved_plan !== null && task.plan_approved_by !== null && task.plan_approved_at !== null
      ? {
          approved: {
            rows: JSON.parse(task.approved_plan) as Record<string, number>,
            by: task.plan_approved_by,
            at: toIso(Number(task.plan_approved_at)),
          },
        }
      : {}),
  };
}
