import { maySeeCategories } from '../auth/category-scope.js';
import type { Principal } from '../auth/principal.js';
import { addDuration, parseDuration, type Duration } from '../lib/duration.js';
import { parseAging, type Aging } from './aging/aging.js';
import { WAITING } from './expiry.js';
import type { Catalog } from './retention-tables.js';
import type { Repository } from '../store/repository.js';
import type { PolicyRow } from './retention-tables.js';

/** The catalog (policies, systems, declared fields) in lookup form, as one version of it. */
export class CatalogView {
  readonly version: number;
  private readonly policies = new Map<string, { row: PolicyRow; duration: Duration; aging: Aging }>();
  private readonly systems = new Set<string>();
  /** `dataset.field` → owning system. */
  private readonly fieldOwners = new Map<string, string>();
  private readonly datasetOwners = new Map<string, string>();
  private readonly fieldCategories = new Map<string, readonly string[]>();

  constructor(catalog: Catalog) {
    this.version = catalog.version;
    for (const row of catalog.policies) {
      const duration = parseDuration(row.retention);
      // Stored retentions were validated on write; a bad one would be a bug, not user input.
      if (!duration) throw new Error(`stored policy ${row.name} has an invalid retention ${row.retention}`);
      const aging = parseAging(row.since);
      if (!aging) throw new Error(`stored policy ${row.name} has an invalid since ${row.since}`);
      this.policies.set(row.name, { row, duration, aging });
    }
    for (const system of catalog.systems) this.systems.add(system.name);
    for (const dataset of catalog.datasets) this.datasetOwners.set(dataset.name, dataset.system);
    for (const field of catalog.fields) {
      const owner = this.datasetOwners.get(field.dataset);
      if (owner) this.fieldOwners.set(field.field, owner);
      this.fieldCategories.set(field.field, JSON.parse(field.categories) as string[]);
    }
  }

  policy(name: string): PolicyRow | undefined {
    return this.policies.get(name)?.row;
  }

  hasSystem(name: string): boolean {
    return this.systems.has(name);
  }

  isDeclaredField(field: string): boolean {
    return this.fieldOwners.has(field);
  }

  declaredFields(): string[] {
    return [...this.fieldOwners.keys()];
  }

  /** Declared fields of one system's datasets. */
  fieldsOfSystem(system: string): string[] {
    return [...this.fieldOwners].filter(([, owner]) => owner === system).map(([field]) => field);
  }

  /** The system whose dataset declares the field; undefined for an undeclared field. */
  ownerOf(field: string): string | undefined {
    return this.fieldOwners.get(field);
  }

  /** The field's data categories (none for an undeclared field). */
  categoriesOf(field: string): readonly string[] {
    return this.fieldCategories.get(field) ?? [];
  }

  fieldsOfDataset(dataset: string): string[] {
    return [...this.fieldOwners.keys()].filter((field) => field.startsWith(`${dataset}.`));
  }

  /** The declared fields a principal may see, or undefined when its token names no categories. */
  visibleFields(principal: Principal): Set<string> | undefined {
    if (principal.categories === undefined) return undefined;
    return new Set(
      [...this.fieldCategories]
        .filter(([, categories]) => maySeeCategories(principal, categories))
        .map(([field]) => field),
    );
  }

  /** The purpose whose consent a consent-based policy needs; undefined for other legal bases. */
  consentPurpose = (policy: string): string | undefined => {
    const row = this.policies.get(policy)?.row;
    return row?.legal_basis === 'consent' ? row.purpose : undefined;
  };

  /** The policy's aging strategy (docs/retention.md, "Aging"). */
  agingOf = (policy: string): Aging => {
    const entry = this.policies.get(policy);
    if (!entry) throw new Error(`usage refers to unknown policy ${policy}`);
    return entry.aging;
  };

  /** Whether some policy counts from other than the last use (the fold then refreshes exactly). */
  hasAgedPolicies(): boolean {
    return [...this.policies.values()].some((entry) => entry.aging.kind !== 'last-use');
  }

  /**
   * What one use at `at` contributes on ingest, before the fold: under `last-use` and
   * `first-use` the end of its own retention (for `first-use` an upper bound, which the fold
   * refreshes from the first use), a fixed day as it is, and for an `event:` policy the placeholder
   * of a field waiting (the fold refreshes it from the subject's events).
   */
  useEnd(policy: string, at: number): number {
    const aging = this.agingOf(policy);
    if (aging.kind === 'until') return aging.at;
    if (aging.kind === 'event') return WAITING;
    return this.retentionEnd(policy, at);
  }

  /** When a use at `lastUseAt` under `policy` stops keeping its field, consent aside. */
  retentionEnd = (policy: string, lastUseAt: number): number => {
    const entry = this.policies.get(policy);
    if (!entry) throw new Error(`usage refers to unknown policy ${policy}`);
    return addDuration(lastUseAt, entry.duration);
  };
}

/**
 * Keeps the current catalog in memory. On a shared store (PostgreSQL, several API nodes) another
 * node may change it, so it is revalidated against the stored version; ingest also checks the
 * version inside its transaction, so a stale view can never be committed.
 */
export class CatalogCache {
  private view: CatalogView | undefined;
  private loading: Promise<CatalogView> | undefined;
  private checkedAt = 0;

  constructor(
    private readonly repository: Repository,
    private readonly revalidateAfterMs: number,
  ) {}

  async current(): Promise<CatalogView> {
    if (this.view && Date.now() - this.checkedAt < this.revalidateAfterMs) return this.view;
    if (this.view && (await this.repository.retention.catalogVersion()) === this.view.version) {
      this.checkedAt = Date.now();
      return this.view;
    }
    return this.reload();
  }

  /** Forces a reload, e.g. after this node changed the catalog or ingest saw a newer version. */
  reload(): Promise<CatalogView> {
    this.loading ??= this.repository.retention
      .loadCatalog()
      .then((catalog) => {
        this.view = new CatalogView(catalog);
        this.checkedAt = Date.now();
        return this.view;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}
