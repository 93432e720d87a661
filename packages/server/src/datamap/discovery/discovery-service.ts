import { emitWebhookEvent } from '../../webhooks/webhook-outbox.js';
import type { DiscoveryRun, DiscoverySource, PrometheusSourceInput, ScrapeSourceInput } from '@lethe/api';
import { visibleCategories } from '../../auth/category-scope.js';
import { authorize } from '../../auth/permissions.js';
import { LETHE_ITSELF, type Principal } from '../../auth/principal.js';
import { categoryOfDataType } from './data-type-category.js';
import { discoveryNames, type DiscoveryNamesOptions } from './discovery-names.js';
import { queryPrometheus } from './prometheus-api.js';
import { scrapeTargets } from './scrape-targets.js';
import { AppError } from '../../lib/app-error.js';
import type { SeriesObservation } from '../datamap.js';
import { addDuration, parseDuration } from '../../lib/duration.js';
import { toIso } from '../../lib/time.js';
import type { SeenSeries } from '../datamap-queries.js';
import type { Repository } from '../../store/repository.js';
import type { DiscoverySourceRow } from '../datamap-tables.js';
import type { Store } from '../../store/store.js';
import { audit } from '../../audit/audit-trail.js';
import { loadTaxonomies } from '../datamap-snapshot.js';
import type { Written } from '../datamap-service.js';

export const DEFAULT_DISCOVERY_INTERVAL = 'PT1M';
export const DEFAULT_STALE_AFTER = 'PT1H';
/** Shorter intervals would turn Lethe into a load generator against the team's Prometheus. */
const MIN_INTERVAL_MS = 1_000;

/** A source as written in a manifest or sent to the API, its kind made explicit. */
export type SourceInput =
  | ({ kind: 'prometheus'; name: string } & Omit<PrometheusSourceInput, 'name'>)
  | ({ kind: 'scrape'; name: string } & Omit<ScrapeSourceInput, 'name'>);

/** The naming, mapping and timing options, stored as written so that an export gives them back. */
type SourceOptions = Omit<PrometheusSourceInput, 'name' | 'url'>;

/**
 * Discovery sources: Prometheus servers and lists of `/metrics` targets whose `transmit`, `store`
 * and `client` series feed the data map. A run reads the source (outside any transaction) and
 * then records what it saw in one transaction; series it no longer sees keep their last-seen
 * time and turn stale, they are never deleted.
 */
export class DiscoveryService {
  private readonly running = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly options: { timeoutMs?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async list(principal: Principal): Promise<DiscoverySource[]> {
    authorize(principal, 'systems:read');
    return (await this.store.repository.datamap.listSources()).map((row) => visibleSource(principal, row));
  }

  put(principal: Principal, input: SourceInput): Promise<Written<DiscoverySource>> {
    return this.store.transaction((repository) => this.putIn(repository, principal, input));
  }

  async putIn(
    repository: Repository,
    principal: Principal,
    input: SourceInput,
  ): Promise<Written<DiscoverySource>> {
    // Registering a URL that Lethe will fetch is an administrator's decision.
    authorize(principal, 'discovery:write');
    const previous = await repository.datamap.getSource(input.name);
    const row = sourceRow(input, previous, this.now());
    if (previous && sameSource(previous, row)) {
      return { value: sourceRowToSource(previous), created: false, changed: false };
    }
    await repository.datamap.saveSource(row);
    await audit(repository, principal, 'discovery.source.put', `source:${input.name}`);
    return { value: sourceRowToSource(row), created: !previous, changed: true };
  }

  remove(principal: Principal, name: string): Promise<void> {
    return this.store.transaction((repository) => this.removeIn(repository, principal, name));
  }

  /** Removes the source and what it observed (its observations prove nothing without it). */
  async removeIn(repository: Repository, principal: Principal, name: string): Promise<void> {
    authorize(principal, 'discovery:write');
    if (!(await repository.datamap.deleteSource(name))) {
      throw new AppError('SOURCE_NOT_FOUND', `No discovery source named "${name}".`);
    }
    await audit(repository, principal, 'discovery.source.delete', `source:${name}`);
  }

  /** Reads one source now (on demand); a source that cannot be read is a 502 with the reason. */
  async run(principal: Principal, name: string): Promise<DiscoveryRun> {
    authorize(principal, 'discovery:run');
    const source = await this.store.repository.datamap.getSource(name);
    if (!source) throw new AppError('SOURCE_NOT_FOUND', `No discovery source named "${name}".`);
    return this.read(source, principal);
  }

  /** Reads every source whose interval has passed; failures are recorded on the source, not thrown. */
  async runDue(): Promise<void> {
    const now = this.now();
    for (const source of await this.store.repository.datamap.listSources()) {
      if (this.running.has(source.name)) continue;
      if (source.last_run_at !== null && source.last_run_at + source.interval_ms > now) continue;
      await this.read(source, undefined).catch(() => undefined);
    }
  }

  private async read(source: DiscoverySourceRow, principal: Principal | undefined): Promise<DiscoveryRun> {
    this.running.add(source.name);
    try {
      const at = this.now();
      const options = JSON.parse(source.names) as SourceOptions;
      let seen: SeriesObservation[];
      let failures: { target: string; message: string }[] = [];
      try {
        const names = discoveryNames(namingOf(options));
        const fetchOptions =
          this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {};
        if (source.kind === 'prometheus') {
          seen = await queryPrometheus(source.url ?? '', names, fetchOptions);
        } else {
          const targets = JSON.parse(source.targets ?? '[]') as string[];
          const result = await scrapeTargets(targets, names, fetchOptions);
          seen = result.observations;
          failures = result.failures.map((f) => ({ target: f.target, message: f.message }));
          if (failures.length === targets.length) {
            throw new AppError('DISCOVERY_FAILED', failures.map((f) => f.message).join(' '));
          }
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await this.store.transaction((repository) =>
          repository.datamap.recordFailure(source.name, at, message),
        );
        throw error;
      }
      const added = await this.store.transaction(async (repository) => {
        const { categories } = await loadTaxonomies(repository);
        const mapping = JSON.parse(source.data_types) as Record<string, string>;
        const rows: SeenSeries[] = seen.map((s) => ({
          source: source.name,
          kind: s.kind,
          team: s.team,
          system: s.system,
          target: s.target,
          data_type: s.dataType,
          protocol: s.protocol,
          category: s.kind === 'client' ? '' : categoryOfDataType(s.dataType, categories, mapping),
        }));
        const count = await repository.datamap.recordSeen(source.name, rows, at);
        // A scheduled run that found nothing new is not a change worth an audit entry every minute.
        if (principal || count > 0) {
          await audit(repository, principal ?? LETHE_ITSELF, 'discovery.run', `source:${source.name}`);
        }
        // Series never seen before are what may disagree with the declared map: subscribers are
        // told, and the drift report says where.
        if (count > 0) {
          await emitWebhookEvent(
            repository,
            {
              type: 'datamap.drift',
              data: { source: source.name, newSeries: count, at: toIso(at), drift: '/v1/datamap/drift' },
            },
            at,
          );
        }
        return count;
      });
      return { source: source.name, at: toIso(at), seen: seen.length, added, failures };
    } finally {
      this.running.delete(source.name);
    }
  }
}

function namingOf(options: SourceOptions): DiscoveryNamesOptions {
  return {
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
    ...(options.labels !== undefined ? { labels: options.labels } : {}),
  };
}

function durationMs(text: string, what: string): number {
  const duration = parseDuration(text);
  if (!duration)
    throw new AppError('INVALID_SOURCE', `${what} "${text}" is not an ISO 8601 duration such as PT1M.`);
  return addDuration(0, duration);
}

function requireHttpUrl(text: string): void {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    throw new AppError('INVALID_SOURCE', `"${text}" is not an http(s) URL.`);
  }
}

function sourceRow(
  input: SourceInput,
  previous: DiscoverySourceRow | undefined,
  now: number,
): DiscoverySourceRow {
  const { kind, name, ...rest } = input;
  const { url, targets, ...options } = { url: undefined, targets: undefined, ...rest } as SourceOptions & {
    url?: string;
    targets?: string[];
  };
  if (kind === 'prometheus') requireHttpUrl(url ?? '');
  else for (const target of targets ?? []) requireHttpUrl(target);
  discoveryNames(namingOf(options)); // throws DISCOVERY_CONFIG_INVALID on a bad name
  const intervalMs = durationMs(options.interval ?? DEFAULT_DISCOVERY_INTERVAL, 'interval');
  if (intervalMs < MIN_INTERVAL_MS)
    throw new AppError('INVALID_SOURCE', 'The interval is at least one second.');
  const staleAfterMs = durationMs(options.staleAfter ?? DEFAULT_STALE_AFTER, 'staleAfter');
  const { dataTypes = {}, ...naming } = options;
  return {
    name,
    kind,
    url: kind === 'prometheus' ? (url ?? null) : null,
    targets: kind === 'scrape' ? JSON.stringify(targets ?? []) : null,
    names: JSON.stringify(naming),
    data_types: JSON.stringify(dataTypes),
    interval_ms: intervalMs,
    stale_after_ms: staleAfterMs,
    created_at: previous?.created_at ?? now,
    updated_at: now,
    last_run_at: previous?.last_run_at ?? null,
    last_success_at: previous?.last_success_at ?? null,
    last_error: previous?.last_error ?? null,
  };
}

function sameSource(a: DiscoverySourceRow, b: DiscoverySourceRow): boolean {
  const content = (r: DiscoverySourceRow) =>
    JSON.stringify([r.kind, r.url, r.targets, r.names, r.data_types]);
  return content(a) === content(b);
}

/** A category-limited token sees the data-type mappings to categories it may see, no others. */
function visibleSource(principal: Principal, row: DiscoverySourceRow): DiscoverySource {
  const { dataTypes, ...source } = sourceRowToSource(row);
  if (dataTypes === undefined || principal.categories === undefined) return sourceRowToSource(row);
  const visible = Object.entries(dataTypes).filter(
    ([, category]) => visibleCategories(principal, [category]).length,
  );
  return visible.length ? { ...source, dataTypes: Object.fromEntries(visible) } : source;
}

export function sourceRowToSource(row: DiscoverySourceRow): DiscoverySource {
  const options = JSON.parse(row.names) as SourceOptions;
  const dataTypes = JSON.parse(row.data_types) as Record<string, string>;
  return {
    name: row.name,
    kind: row.kind,
    ...(row.url !== null ? { url: row.url } : {}),
    ...(row.targets !== null ? { targets: JSON.parse(row.targets) as string[] } : {}),
    ...options,
    ...(Object.keys(dataTypes).length ? { dataTypes } : {}),
    interval: options.interval ?? DEFAULT_DISCOVERY_INTERVAL,
    staleAfter: options.staleAfter ?? DEFAULT_STALE_AFTER,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    ...(row.last_run_at !== null ? { lastRunAt: toIso(row.last_run_at) } : {}),
    ...(row.last_success_at !== null ? { lastSuccessAt: toIso(row.last_success_at) } : {}),
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
  };
}
