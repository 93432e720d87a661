import type { Identifiers, PlannedTarget } from '@lethe/api';
import { LETHE_ITSELF } from '../auth/principal.js';
import type { Repository } from '../store/repository.js';
import type { GraphService } from '../datamap/graph-service.js';
import { IDENTIFIER_CATEGORIES } from './identifiers.js';
import type { TaskReason } from './task-reasons.js';

/** One target of the plan, with its reasons structured (`task-reasons.ts`) until they are shown. */
export type PlanTarget = Omit<PlannedTarget, 'reasons'> & { reasons: TaskReason[] };

/**
 * Which systems and databases a request must reach (DESIGN.md §6), each with the reasons:
 * systems that used the subject (telemetry) ∪ systems that store or receive the person's data
 * categories (data map, following flows downstream) ∪ every SQL connector. A system is asked
 * through each of its rights clients; a system with neither a client nor a connector gets a
 * ticket for its owning team, so that no system is skipped silently.
 */
export async function planRequest(
  repository: Repository,
  graph: GraphService,
  identifiers: Identifiers,
): Promise<PlanTarget[]> {
  const rows = await repository.datamap.loadRows();
  const reasons = new Map<string, TaskReason[]>();
  const because = (system: string, reason: TaskReason) => {
    const list = reasons.get(system) ?? [];
    const key = JSON.stringify(reason);
    if (!list.some((listed) => JSON.stringify(listed) === key)) list.push(reason);
    reasons.set(system, list);
  };

  const categories = new Set<string>();
  for (const [kind, category] of Object.entries(IDENTIFIER_CATEGORIES)) {
    if (category !== undefined && identifiers[kind as keyof Identifiers] !== undefined)
      categories.add(category);
  }

  if (identifiers.subject !== undefined) {
    const usages = await repository.retention.usagesOfSubjects([identifiers.subject]);
    const datasetOwner = new Map(rows.datasets.map((dataset) => [dataset.name, dataset.system]));
    const fieldCategories = new Map(
      rows.fields.map((field) => [field.field, JSON.parse(field.categories) as string[]]),
    );
    for (const usage of usages) {
      because(usage.last_system, { kind: 'telemetry-used', field: usage.field, policy: usage.policy });
      const owner = datasetOwner.get(usage.field.split('.')[0] ?? '');
      if (owner !== undefined && owner !== usage.last_system)
        because(owner, { kind: 'telemetry-holds', field: usage.field });
      for (const category of fieldCategories.get(usage.field) ?? []) categories.add(category);
    }
  }

  const teamOf = new Map(rows.systems.map((system) => [system.name, system.team]));
  for (const category of [...categories].sort()) {
    for (const holder of await graph.holders(LETHE_ITSELF, category)) {
      // Systems only seen by discovery are not declared; their team comes from the metrics.
      if (holder.team !== undefined && !teamOf.has(holder.system)) teamOf.set(holder.system, holder.team);
      because(holder.system, {
        kind: 'datamap',
        how: holder.how,
        categories: holder.categories,
        via: holder.via,
      });
    }
  }

  const connectors = await repository.requests.listConnectors();
  const systemsWithConnector = new Set(connectors.flatMap((connector) => connector.system ?? []));
  const targets: PlanTarget[] = [];
  for (const system of [...reasons.keys()].sort()) {
    const why = reasons.get(system) ?? [];
    const team = teamOf.get(system);
    const clients = rows.clients.filter((client) => client.system === system);
    for (const client of clients) {
      targets.push({
        target: client.name,
        targetKind: 'client',
        system,
        ...(team !== undefined ? { team } : {}),
        protocol: client.protocol,
        reasons: why,
      });
    }
    if (clients.length === 0 && !systemsWithConnector.has(system) && team !== undefined) {
      targets.push({
        target: system,
        targetKind: 'team',
        system,
        team,
        protocol: 'ticket',
        reasons: [...why, { kind: 'no-rights-client' }],
      });
    }
  }
  for (const connector of connectors) {
    targets.push({
      target: connector.name,
      targetKind: 'connector',
      ...(connector.system !== null ? { system: connector.system } : {}),
      ...(connector.system !== null && teamOf.has(connector.system)
        ? { team: teamOf.get(connector.system) }
        : {}),
      protocol: connector.type,
      reasons: [
        { kind: 'sql-connector' },
        ...(connector.system !== null ? (reasons.get(connector.system) ?? []) : []),
      ],
    });
  }
  return targets;
}
