import type { Identifiers, RequestTask, RightsRequest } from '@lethe/api';
import { maySeeCategories } from '../auth/category-scope.js';
import type { Principal } from '../auth/principal.js';
import { IDENTIFIER_CATEGORIES } from './identifiers.js';

/**
 * What a category-limited token reads of a rights request. Such a token reaches one only through
 * tickets (the list, and the request it answers with when one is completed); everything else
 * about requests needs a token without limits. It reads the identifiers and erased categories it
 * sees, and no free text (notes, errors, the reason for a status or an extension): text cannot be
 * sorted into categories, so it is withheld (deny by default). The tasks' reasons are filtered
 * before, on their structure (`task-reasons.ts`).
 */
export function limitedRequestView(principal: Principal, view: RightsRequest): RightsRequest {
  if (principal.categories === undefined) return view;
  const { identifiers, categories, statusReason: _statusReason, extension, tasks, ...rest } = view;
  return {
    ...rest,
    ...(identifiers !== undefined ? { identifiers: visibleIdentifiers(principal, identifiers) } : {}),
    ...(categories !== undefined
      ? { categories: categories.filter((category) => maySeeCategories(principal, [category])) }
      : {}),
    ...(extension !== undefined ? { extension: { ...extension, reason: '' } } : {}),
    ...(tasks !== undefined ? { tasks: tasks.map((task) => limitedTaskView(principal, task)) } : {}),
  };
}

/**
 * A task without its free text, for a category-limited token, and without a connector's erasure
 * plan: its table names come from the connector's config, which such a token may not read.
 */
export function limitedTaskView<T extends RequestTask>(principal: Principal, task: T): T {
  if (principal.categories === undefined) return task;
  const { note: _note, lastError: _lastError, erasurePlan: _erasurePlan, attemptLog, ...rest } = task;
  return { ...rest, attemptLog: attemptLog.map(({ error: _error, ...attempt }) => attempt) } as T;
}

function visibleIdentifiers(principal: Principal, identifiers: Identifiers): Identifiers {
  return Object.fromEntries(
    Object.entries(identifiers).filter(([kind]) => {
      const category = IDENTIFIER_CATEGORIES[kind as keyof Identifiers];
      return category !== undefined && maySeeCategories(principal, [category]);
    }),
  );
}
