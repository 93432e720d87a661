import type { DataMapSnapshot, MapField, Observation } from './datamap.js';
import { Taxonomy, type TaxonomyEntry } from '../lib/taxonomy.js';
import type { DataMapRows } from './datamap-queries.js';
import type { Repository } from '../store/repository.js';
import type { TaxonomyEntryRow } from './datamap-tables.js';

export interface Taxonomies {
  readonly categories: Taxonomy;
  readonly purposes: Taxonomy;
}

/** The default taxonomies with the user's stored additions. */
export function taxonomiesOf(rows: readonly TaxonomyEntryRow[]): Taxonomies {
  const entries = (taxonomy: TaxonomyEntryRow['taxonomy']): TaxonomyEntry[] =>
    rows
      .filter((row) => row.taxonomy === taxonomy)
      .map((row) => ({
        key: row.key,
        description: row.description,
        ...(row.special ? { special: true } : {}),
      }));
  return {
    categories: Taxonomy.dataCategories(entries('categories')),
    purposes: Taxonomy.purposes(entries('purposes')),
  };
}

export async function loadTaxonomies(repository: Repository): Promise<Taxonomies> {
  return taxonomiesOf(await repository.datamap.listTaxonomyEntries());
}

/**
 * The stored map as the domain's snapshot, with each observation's stale flag as of `now`, and
 * when the next observation turns stale (a cached snapshot is not valid past that moment).
 */
export function snapshotOf(
  rows: DataMapRows,
  now: number,
): { snapshot: DataMapSnapshot; validUntil: number } {
  const staleAfter = new Map(rows.sources.map((source) => [source.name, source.stale_after_ms]));
  const datasetOwner = new Map(rows.datasets.map((dataset) => [dataset.name, dataset.system]));
  const fieldsBySystem = new Map<string, MapField[]>();
  for (const field of rows.fields) {
    const system = datasetOwner.get(field.dataset);
    if (system === undefined) continue;
    const list = fieldsBySystem.get(system) ?? [];
    list.push({ field: field.field, categories: JSON.parse(field.categories) as string[] });
    fieldsBySystem.set(system, list);
  }
  let validUntil = Infinity;
  const observations = rows.observations.map((row): Observation => {
    const staleAt = row.last_seen_at + (staleAfter.get(row.source) ?? 0);
    if (staleAt > now) validUntil = Math.min(validUntil, staleAt);
    return {
      source: row.source,
      kind: row.kind,
      team: row.team,
      system: row.system,
      target: row.target,
      dataType: row.data_type,
      protocol: row.protocol,
      category: row.category,
      firstSeenAt: row.first_seen_at,
      lastSeenAt: row.last_seen_at,
      stale: staleAt <= now,
    };
  });
  const snapshot: DataMapSnapshot = {
    teams: rows.teams.map((team) => ({
      name: team.name,
      ...(team.description !== null ? { description: team.description } : {}),
      ...(team.contact !== null ? { contact: team.contact } : {}),
    })),
    systems: rows.systems.map((system) => ({
      name: system.name,
      team: system.team,
      ...(system.description !== null ? { description: system.description } : {}),
      thirdParty: system.third_party === 1,
      ...(system.country !== null ? { country: system.country } : {}),
      ...(system.safeguards !== null ? { safeguards: system.safeguards } : {}),
      fields: fieldsBySystem.get(system.name) ?? [],
    })),
    flows: rows.flows.map((flow) => ({
      from: flow.from_system,
      to: flow.to_system,
      categories: JSON.parse(flow.categories) as string[],
      ...(flow.description !== null ? { description: flow.description } : {}),
    })),
    clients: rows.clients.map((client) => ({
      name: client.name,
      system: client.system,
      protocol: client.protocol,
      ...(client.address !== null ? { address: client.address } : {}),
    })),
    observations,
  };
  return { snapshot, validUntil };
}
