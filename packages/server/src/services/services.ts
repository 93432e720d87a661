import type { Store } from '../store/store.js';
import { CatalogCache } from './catalog-cache.js';
import { PolicyService } from './policy-service.js';
import { RetentionService } from './retention-service.js';
import { SystemService } from './system-service.js';
import { DEFAULT_TELEMETRY_LIMITS, TelemetryService, type TelemetryLimits } from './telemetry-service.js';

export interface Services {
  readonly store: Store;
  readonly policies: PolicyService;
  readonly systems: SystemService;
  readonly telemetry: TelemetryService;
  readonly retention: RetentionService;
}

/** Wires the services over one store. */
export function createServices(store: Store, limits: TelemetryLimits = DEFAULT_TELEMETRY_LIMITS): Services {
  // A private store is only changed through this process; a shared one is revalidated each second.
  const catalog = new CatalogCache(store.repository, store.capabilities.shared ? 1_000 : Infinity);
  return {
    store,
    policies: new PolicyService(store, catalog),
    systems: new SystemService(store, catalog),
    telemetry: new TelemetryService(store, catalog, limits),
    retention: new RetentionService(store, catalog),
  };
}
