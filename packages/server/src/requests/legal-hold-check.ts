import type { ConnectorInput } from '@lethe/api';
import { CatalogView } from '../retention/catalog-cache.js';
import { holdCovers, type HeldCandidate, type HoldScope } from '../retention/holds/hold-rules.js';
import { standingHolds } from '../retention/holds/hold-service.js';
import type { Repository } from '../store/repository.js';
import { columnRules } from './sql-connectors/column-masks.js';
import type { RequestTaskRow } from './request-tables.js';
import { readReasons } from './task-reasons.js';

/** What an erasure task would reach, as a hold sees it: its system and the data it holds there. */
export interface HeldTarget {
  /** The task's system; undefined for a connector not tied to a system. */
  readonly system?: string;
  /** What the task could erase there: categories, and the policy when Lethe knows it ('' if not). */
  readonly data: readonly Omit<HeldCandidate, 'subject' | 'system'>[];
}

/**
 * The first standing hold (by name) that keeps an erasure task from running, or undefined
 * (docs/rights-requests.md "Legal holds"). A task erases a whole system (or database) for the
 * subject, so it is held whole when a hold covers the subject there: a hold without category or
 * policy lists always does; one with lists does when any of the target's data lies under them.
 * A subject-listed hold needs the request's subject id to match: a request by e-mail alone
 * cannot be told apart from anyone else's.
 */
export function holdOnTarget(
  holds: readonly HoldScope[],
  subject: string | undefined,
  target: HeldTarget,
): HoldScope | undefined {
  return holds.find((hold) => {
    if (hold.subjects && (subject === undefined || !hold.subjects.has(subject))) return false;
    if (hold.systems && (target.system === undefined || !hold.systems.has(target.system))) return false;
    if (!hold.categories && !hold.policies) return true;
    return target.data.some((data) =>
      holdCovers(hold, { ...data, subject: subject ?? '', system: target.system ?? '' }),
    );
  });
}

/** `holdOnTarget` for a stored task, read at the moment it would run. */
export async function holdOnTask(
  repository: Repository,
  task: RequestTaskRow,
  subject: string | undefined,
): Promise<HoldScope | undefined> {
  const holds = await standingHolds(repository);
  if (holds.length === 0) return undefined;
  const system = task.system ?? undefined;
  const needsData = holds.some((hold) => hold.categories || hold.policies);
  const data = needsData ? await targetData(repository, task, subject, system) : [];
  return holdOnTarget(holds, subject, { ...(system !== undefined ? { system } : {}), data });
}

/**
 * Everything the task may erase, as categories (and policies): the subject's fields Lethe tracks
 * in the system, the fields the system declares, the categories its plan reasons name (a system
 * that receives data through a flow declares none), and a connector's tagged columns.
 */
async function targetData(
  repository: Repository,
  task: RequestTaskRow,
  subject: string | undefined,
  system: string | undefined,
): Promise<HeldTarget['data']> {
  const view = new CatalogView(await repository.retention.loadCatalog());
  const data: { categories: readonly string[]; policy: string }[] = [];
  if (system !== undefined) {
    if (subject !== undefined) {
      for (const row of await repository.retention.fieldExpiriesOfSubjects([subject])) {
        // Where the data lives decides, as in the feed: the declaring system, else the user.
        if ((view.ownerOf(row.field) ?? row.system) === system)
          data.push({ categories: view.categoriesOf(row.field), policy: row.policy });
      }
    }
    for (const field of view.fieldsOfSystem(system))
      data.push({ categories: view.categoriesOf(field), policy: '' });
  }
  for (const reason of readReasons(task.reasons)) {
    if (reason.kind === 'datamap') data.push({ categories: reason.categories, policy: '' });
    if (reason.kind === 'telemetry-used')
      data.push({ categories: view.categoriesOf(reason.field), policy: reason.policy });
  }
  if (task.target_kind === 'connector') {
    const connector = await repository.requests.getConnector(task.target);
    const tables = connector ? (JSON.parse(connector.tables) as ConnectorInput['tables']) : [];
    for (const table of tables) {
      for (const spec of Object.values(table.columns)) {
        const { categories } = columnRules(spec);
        if (categories.length > 0) data.push({ categories, policy: '' });
      }
    }
  }
  return data;
}
