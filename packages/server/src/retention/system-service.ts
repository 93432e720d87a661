import { WAITING } from './expiry.js';
import type { DatasetDeclaration, System, SystemInput } from '@lethe/api';
import { maySeeCategories } from '../auth/category-scope.js';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { TAXONOMY_KEY_PATTERN, type Taxonomy } from '../lib/taxonomy.js';
import { toIso } from '../lib/time.js';
import type { SystemRecord } from './retention-queries.js';
import type { Repository } from '../store/repository.js';
import type { Store } from '../store/store.js';
import { audit } from '../audit/audit-trail.js';
import { CatalogView, type CatalogCache } from './catalog-cache.js';
import { loadTaxonomies } from '../datamap/datamap-snapshot.js';

export class SystemService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogCache,
  ) {}

  async list(principal: Principal): Promise<System[]> {
    authorize(principal, 'systems:read');
    const catalog = await this.store.repository.retention.loadCatalog();
    return catalog.systems.map((system) =>
      visibleTo(
        principal,
        systemRecordToSystem({
          system,
          datasets: catalog.datasets.filter((d) => d.system === system.name),
          fields: catalog.fields,
        }),
      ),
    );
  }

  async get(principal: Principal, name: string): Promise<System> {
    authorize(principal, 'systems:read');
    const record = await this.store.repository.retention.getSystem(name);
    if (!record) throw new AppError('SYSTEM_NOT_FOUND', `No system named "${name}".`);
    return visibleTo(principal, systemRecordToSystem(record));
  }

  /**
   * Creates or replaces a system with its datasets. A dataset belongs to one system, so that
   * `dataset.field` names one field everywhere; taking another system's dataset is a 409.
   */
  async put(
    principal: Principal,
    name: string,
    input: SystemInput,
  ): Promise<{ system: System; created: boolean }> {
    authorize(principal, 'systems:write');
    const result = await this.store.transaction(
      (repository) => this.putIn(repository, principal, name, input),
      {
        exclusiveCatalog: true,
      },
    );
    await this.catalog.reload();
    return result;
  }

  /** `put` inside a caller's transaction (holding the catalog lock); the caller reloads the cache. */
  async putIn(
    repository: Repository,
    principal: Principal,
    name: string,
    input: SystemInput,
  ): Promise<{ system: System; created: boolean; changed: boolean }> {
    authorize(principal, 'systems:write');
    const datasets = input.datasets ?? [];
    validateDatasets(datasets, (await loadTaxonomies(repository)).categories);
    const previous = await repository.retention.getSystem(name);
    const taken = (await repository.retention.datasetOwners(datasets.map((d) => d.name))).filter(
      (d) => d.system !== name,
    );
    if (taken.length) {
      throw new AppError(
        'DATASET_OWNED_ELSEWHERE',
        taken.map((d) => `Dataset "${d.name}" belongs to system "${d.system}".`).join(' '),
      );
    }
    const now = Date.now();
    const record: SystemRecord = {
      system: {
        name,
        team: input.team,
        description: input.description ?? null,
        third_party: input.thirdParty ? 1 : 0,
        country: input.country ?? null,
        safeguards: input.safeguards ?? null,
        created_at: previous?.system.created_at ?? now,
        updated_at: now,
      },
      datasets: datasets.map((d, position) => ({ name: d.name, system: name, position })),
      fields: datasets.flatMap((d) =>
        d.fields.map((f, position) => ({
          field: `${d.name}.${f.name}`,
          dataset: d.name,
          name: f.name,
          categories: JSON.stringify(f.categories ?? []),
          position,
        })),
      ),
    };
    if (previous && sameSystemContent(previous, record)) {
      return { system: systemRecordToSystem(previous), created: false, changed: false };
    }
    await repository.retention.saveSystem(record);
    await repository.datamap.bumpVersion();
    await audit(repository, principal, 'system.put', `system:${name}`);
    return { system: systemRecordToSystem(record), created: !previous, changed: true };
  }

  /**
   * Removes a system from the map with its datasets, flows and rights clients. Refused while
   * telemetry says the system's fields still hold data under a policy (the map must not forget
   * where personal data is); retire the policies or let the data expire first.
   */
  async remove(principal: Principal, name: string): Promise<void> {
    authorize(principal, 'systems:write');
    await this.store.transaction((repository) => this.removeIn(repository, principal, name), {
      exclusiveCatalog: true,
    });
    await this.catalog.reload();
  }

  async removeIn(repository: Repository, principal: Principal, name: string): Promise<void> {
    authorize(principal, 'systems:write');
    const record = await repository.retention.getSystem(name);
    if (!record) throw new AppError('SYSTEM_NOT_FOUND', `No system named "${name}".`);
    const view = new CatalogView(await repository.retention.loadCatalog());
    const now = Date.now();
    const holding = (await repository.datamap.usageLinksOfFields(record.fields.map((f) => f.field)))
      // By the policy's aging: a fixed day, or a field still waiting for its event, holds data too.
      .map((link) => ({ link, until: view.useEnd(link.policy, link.last_use_at) }))
      .filter(({ until }) => until > now)
      .sort((a, b) => b.until - a.until);
    const [latest] = holding;
    if (latest) {
      // The message names a field the caller may see: a category-limited token learns nothing more.
      const categories = new Map(record.fields.map((f) => [f.field, JSON.parse(f.categories) as string[]]));
      const shown = holding.find(({ link }) => maySeeCategories(principal, categories.get(link.field) ?? []));
      throw new AppError(
        'SYSTEM_HOLDS_DATA',
        shown
          ? `System "${name}" still holds data: "${shown.link.field}" is kept under policy "${shown.link.policy}" ${keptUntil(shown.until)}.`
          : `System "${name}" still holds data ${keptUntil(latest.until)}, in fields this token may not see.`,
      );
    }
    await repository.datamap.deleteSystem(name);
    await repository.retention.bumpCatalogVersion();
    await audit(repository, principal, 'system.delete', `system:${name}`);
  }
}

/** Leaves out the fields whose categories the principal's token does not cover. */
function visibleTo(principal: Principal, system: System): System {
  if (principal.categories === undefined) return system;
  return {
    ...system,
    datasets: system.datasets.map((dataset) => ({
      ...dataset,
      fields: dataset.fields.filter((field) => maySeeCategories(principal, field.categories ?? [])),
    })),
  };
}

function validateDatasets(datasets: readonly DatasetDeclaration[], categories: Taxonomy): void {
  const duplicate = (names: string[]) => names.find((name, index) => names.indexOf(name) !== index);
  const dataset = duplicate(datasets.map((d) => d.name));
  if (dataset) throw new AppError('DUPLICATE_NAME', `Dataset "${dataset}" is declared twice.`);
  for (const d of datasets) {
    const field = duplicate(d.fields.map((f) => f.name));
    if (field) throw new AppError('DUPLICATE_NAME', `Field "${d.name}.${field}" is declared twice.`);
    for (const f of d.fields) {
      requireCategories(categories, f.categories ?? [], `"${d.name}.${f.name}"`);
    }
  }
}

/** Every key must be a dotted key of the taxonomy, so that a typo does not hide data from a filter. */
export function requireCategories(categories: Taxonomy, keys: readonly string[], owner: string): void {
  for (const key of keys) {
    if (!TAXONOMY_KEY_PATTERN.test(key)) {
      throw new AppError('INVALID_CATEGORY', `Category "${key}" of ${owner} is not a dotted key.`);
    }
    if (!categories.has(key)) {
      throw new AppError(
        'UNKNOWN_CATEGORY',
        `Category "${key}" of ${owner} is not in the taxonomy; add it under taxonomy.categories first.`,
      );
    }
  }
}

function sameSystemContent(a: SystemRecord, b: SystemRecord): boolean {
  const content = (r: SystemRecord) => {
    const { createdAt: _created, updatedAt: _updated, ...rest } = systemRecordToSystem(r);
    return JSON.stringify(rest);
  };
  return content(a) === content(b);
}

export function systemRecordToSystem(record: SystemRecord): System {
  const { system } = record;
  return {
    name: system.name,
    team: system.team,
    ...(system.description !== null ? { description: system.description } : {}),
    ...(system.third_party === 1 ? { thirdParty: true } : {}),
    ...(system.country !== null ? { country: system.country } : {}),
    ...(system.safeguards !== null ? { safeguards: system.safeguards } : {}),
    datasets: record.datasets.map((dataset) => ({
      name: dataset.name,
      fields: record.fields
        .filter((field) => field.dataset === dataset.name)
        .map((field) => ({ name: field.name, categories: JSON.parse(field.categories) as string[] })),
    })),
    createdAt: toIso(system.created_at),
    updatedAt: toIso(system.updated_at),
  };
}

/** `until <instant>`, or for a field waiting for its event (no end yet) `until its event arrives`. */
function keptUntil(until: number): string {
  return until >= WAITING ? 'until the event its policy counts from arrives' : `until ${toIso(until)}`;
}
