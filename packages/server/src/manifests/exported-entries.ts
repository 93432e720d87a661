import type { Manifest, Webhook } from '@lethe/api';
import type { DiscoverySourceRow, TaxonomyEntryRow } from '../datamap/datamap-tables.js';
import { sourceRowToSource } from '../datamap/discovery/discovery-service.js';
import type { Catalog, PolicyRow } from '../retention/retention-tables.js';
import { policyRowToPolicy } from '../retention/policy-service.js';
import { systemRecordToSystem } from '../retention/system-service.js';
import { DEFAULT_DUE_SOON_DAYS } from '../webhooks/webhook-service.js';

/** What `GET /v1/manifest` writes for each kind: canonical, with defaults left out. */
type ManifestEntry<Section extends keyof Manifest> =
  NonNullable<Manifest[Section]> extends readonly (infer E)[] ? E : never;

/** The taxonomy extensions as the manifest lists them: categories and purposes, each left out when empty. */
export function exportedTaxonomy(
  taxonomyRows: readonly TaxonomyEntryRow[],
): NonNullable<Manifest['taxonomy']> {
  const taxonomyOf = (taxonomy: 'categories' | 'purposes') =>
    taxonomyRows
      .filter((row) => row.taxonomy === taxonomy)
      .map((row) => ({
        key: row.key,
        description: row.description,
        ...(row.special ? { special: true } : {}),
      }));
  const categories = taxonomyOf('categories');
  const purposes = taxonomyOf('purposes');
  return {
    ...(categories.length ? { categories } : {}),
    ...(purposes.length ? { purposes } : {}),
  };
}

export function exportedPolicy(row: PolicyRow): ManifestEntry<'policies'> {
  const { name, purpose, retention, legalBasis, since, description, dataSubjects, reviewedOn } =
    policyRowToPolicy(row);
  return {
    name,
    purpose,
    retention,
    legalBasis,
    // The default stays implicit, so manifests exported before aging strategies read the same.
    ...(since !== 'last-use' ? { since } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(dataSubjects !== undefined ? { dataSubjects } : {}),
    ...(reviewedOn !== undefined ? { reviewedOn } : {}),
  };
}

export function exportedSystem(
  system: Catalog['systems'][number],
  catalog: Catalog,
): ManifestEntry<'systems'> {
  const {
    createdAt: _created,
    updatedAt: _updated,
    datasets,
    ...rest
  } = systemRecordToSystem({
    system,
    datasets: catalog.datasets.filter((d) => d.system === system.name),
    fields: catalog.fields,
  });
  return {
    ...rest,
    datasets: datasets.map((dataset) => ({
      name: dataset.name,
      fields: dataset.fields.map((field) => ({
        name: field.name,
        ...(field.categories?.length ? { categories: field.categories } : {}),
      })),
    })),
  };
}

export function exportedSource(row: DiscoverySourceRow): ManifestEntry<'sources'> {
  const { name, kind, url, targets, prefix, metrics, labels, dataTypes } = sourceRowToSource(row);
  const written = JSON.parse(row.names) as { interval?: string; staleAfter?: string };
  return {
    name,
    kind,
    ...(url !== undefined ? { url } : {}),
    ...(targets !== undefined ? { targets } : {}),
    ...(prefix !== undefined ? { prefix } : {}),
    ...(metrics !== undefined ? { metrics } : {}),
    ...(labels !== undefined ? { labels } : {}),
    ...(dataTypes !== undefined ? { dataTypes } : {}),
    ...(written.interval !== undefined ? { interval: written.interval } : {}),
    ...(written.staleAfter !== undefined ? { staleAfter: written.staleAfter } : {}),
  };
}

export function exportedWebhook({
  name,
  url,
  events,
  systems,
  dueSoonDays,
}: Webhook): ManifestEntry<'webhooks'> {
  return {
    name,
    url,
    events: events as ManifestEntry<'webhooks'>['events'],
    ...(systems !== undefined ? { systems } : {}),
    ...(dueSoonDays !== DEFAULT_DUE_SOON_DAYS ? { dueSoonDays } : {}),
  };
}
