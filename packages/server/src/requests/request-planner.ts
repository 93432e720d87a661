import type { Identifiers, PlannedTarget } from '@lethe/api';
import { LETHE_ITSELF } from '../auth/principal.js';
import type { Repository } from '../store/repository.js';
import type { GraphService } from '../datamap/graph-service.js';

/**
 * The data category each kind of identifier is, so that the systems holding it can be found in
 * the data map. Custom keys have no category: only telemetry and connectors find them.
 */
const IDENTIFIER_CATEGORIES: Partial<Record<keyof Identifiers, string>> = {
  subject: 'user.unique_id',
  email: 'user.contact.email',
  phone: 'user.contact.phone_number',
  address: 'user.contact.address',
};

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
): Promise<PlannedTarget[]> {
  const rows = await repository.datamap.loadRows();
  const reasons = new Map<string, string[]>();
  const because = (system: string, reason: string) => {
    const list = reasons.get(system) ?? [];
    if (!list.includes(reason)) list.push(reason);
    reasons.set(system, list);
  };

  const categories = new Set<string>();
  for (const [kind, category] of Object.entries(IDENTIFIER_CATEGORIES)) {
    if (identifiers[kind as keyof Identifiers] !== undefined) categories.add(category);
  }

  if (identifiers.subject !== undefined) {
    const usages = await repository.retention.usagesOfSubjects([identifiers.subject]);
    const datasetOwner = new Map(rows.datasets.map((dataset) => [dataset.name, dataset.system]));
    const fieldCategories = new Map(
      rows.fields.map((field) => [field.field, JSON.parse(field.categories) as string[]]),
    );
    for (const usage of usages) {
      because(usage.last_system, `telemetry: used ${usage.field} under ${usage.policy}`);
      const owner = datasetOwner.get(usage.field.split('.')[0] ?? '');
      if (owner !== undefined && owner !== usage.last_system)
        because(owner, `telemetry: holds ${usage.field}`);
      for (const category of fieldCategories.get(usage.field) ?? []) categories.add(category);
    }
  }

  const teamOf = new Map(rows.systems.map((system) => [system.name, system.team]));
  for (const category of [...categories].sort()) {
    for (const holder of await graph.holders(LETHE_ITSELF, category)) {
      // Systems only seen by discovery are not declared; their team comes from the metrics.
      if (holder.team !== undefined && !teamOf.has(holder.system)) teamOf.set(holder.system, holder.team);
      const what = holder.categories.join(', ');
      because(
        holder.system,
        holder.how === 'receives'
          ? `data map: receives ${what} via ${holder.via.join(' → ')}`
          : `data map: ${holder.how} ${what}`,
      );
    }
  }

  const connectors = await repository.requests.listConnectors();
  const systemsWithConnector = new Set(connectors.flatMap((connector) => connector.system ?? []));
  const targets: PlannedTarget[] = [];
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
        reasons: [...why, 'no rights client: the owning team gets a ticket'],
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
        'SQL connector: searched directly',
        ...(connector.system !== null ? (reasons.get(connector.system) ?? []) : []),
      ],
    });
  }
  return targets;
}
