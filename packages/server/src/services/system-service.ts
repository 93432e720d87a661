import type { DatasetDeclaration, System, SystemInput } from '@lethe/api';
import { maySeeCategories } from '../auth/category-scope.js';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../domain/app-error.js';
import { TAXONOMY_KEY_PATTERN } from '../domain/taxonomy.js';
import { toIso } from '../domain/time.js';
import type { SystemRecord } from '../store/repository.js';
import type { Store } from '../store/store.js';
import { audit } from './audit-trail.js';
import type { CatalogCache } from './catalog-cache.js';

export class SystemService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogCache,
  ) {}

  async list(principal: Principal): Promise<System[]> {
    authorize(principal, 'systems:read');
    const catalog = await this.store.repository.loadCatalog();
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
    const record = await this.store.repository.getSystem(name);
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
    const datasets = input.datasets ?? [];
    validateDatasets(datasets);
    const result = await this.store.transaction(
      async (repository) => {
        const previous = await repository.getSystem(name);
        const taken = (await repository.datasetOwners(datasets.map((d) => d.name))).filter(
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
          return { system: systemRecordToSystem(previous), created: false };
        }
        await repository.saveSystem(record);
        await audit(repository, principal, 'system.put', `system:${name}`);
        return { system: systemRecordToSystem(record), created: !previous };
      },
      { exclusiveCatalog: true },
    );
    await this.catalog.reload();
    return result;
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

function validateDatasets(datasets: readonly DatasetDeclaration[]): void {
  const duplicate = (names: string[]) => names.find((name, index) => names.indexOf(name) !== index);
  const dataset = duplicate(datasets.map((d) => d.name));
  if (dataset) throw new AppError('DUPLICATE_NAME', `Dataset "${dataset}" is declared twice.`);
  for (const d of datasets) {
    const field = duplicate(d.fields.map((f) => f.name));
    if (field) throw new AppError('DUPLICATE_NAME', `Field "${d.name}.${field}" is declared twice.`);
    for (const f of d.fields) {
      const bad = (f.categories ?? []).find((category) => !TAXONOMY_KEY_PATTERN.test(category));
      if (bad !== undefined) {
        throw new AppError(
          'INVALID_CATEGORY',
          `Category "${bad}" of "${d.name}.${f.name}" is not a dotted key.`,
        );
      }
    }
  }
}

function sameSystemContent(a: SystemRecord, b: SystemRecord): boolean {
  const content = (r: SystemRecord) =>
    JSON.stringify([r.system.team, r.system.description, systemRecordToSystem(r).datasets]);
  return content(a) === content(b);
}

export function systemRecordToSystem(record: SystemRecord): System {
  const { system } = record;
  return {
    name: system.name,
    team: system.team,
    ...(system.description !== null ? { description: system.description } : {}),
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
