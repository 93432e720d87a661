import type { MasterKey } from '../auth/master-key.js';
import { SigningKeys } from '../auth/signing-keys.js';
import type { Store } from '../store/store.js';
import { AuditService } from './audit-service.js';
import { CatalogCache } from './catalog-cache.js';
import { DataMapService } from './datamap-service.js';
import { DiscoveryService } from './discovery-service.js';
import { GraphService } from './graph-service.js';
import { ManifestService } from './manifest-service.js';
import { ReportService } from './report-service.js';
import { PolicyService } from './policy-service.js';
import { RetentionService } from './retention-service.js';
import { ServerSecrets } from './server-secrets.js';
import { SystemService } from './system-service.js';
import { DEFAULT_TELEMETRY_LIMITS, TelemetryService, type TelemetryLimits } from './telemetry-service.js';

export interface Services {
  readonly store: Store;
  readonly policies: PolicyService;
  readonly systems: SystemService;
  readonly telemetry: TelemetryService;
  readonly retention: RetentionService;
  readonly datamap: DataMapService;
  readonly discovery: DiscoveryService;
  readonly manifests: ManifestService;
  readonly graph: GraphService;
  readonly reports: ReportService;
  readonly secrets: ServerSecrets;
  readonly audit: AuditService;
  /** The server's own signing keys (tokens, audit checkpoints, outgoing-call tokens). */
  readonly keys: SigningKeys;
}

/** Wires the services over one store, whose key material is wrapped under `masterKey`. */
export function createServices(
  store: Store,
  masterKey: MasterKey,
  options: { keys?: SigningKeys; limits?: TelemetryLimits; discoveryTimeoutMs?: number } = {},
): Services {
  const keys = options.keys ?? new SigningKeys(store, masterKey);
  // A private store is only changed through this process; a shared one is revalidated each second.
  const catalog = new CatalogCache(store.repository, store.capabilities.shared ? 1_000 : Infinity);
  const secrets = new ServerSecrets(store.repository, masterKey);
  const policies = new PolicyService(store, catalog);
  const systems = new SystemService(store, catalog);
  const datamap = new DataMapService(store);
  const discovery = new DiscoveryService(
    store,
    options.discoveryTimeoutMs !== undefined ? { timeoutMs: options.discoveryTimeoutMs } : {},
  );
  return {
    store,
    secrets,
    policies,
    systems,
    datamap,
    discovery,
    reports: new ReportService(store),
    graph: new GraphService(store),
    manifests: new ManifestService(store, catalog, { policies, systems, datamap, discovery }),
    telemetry: new TelemetryService(store, catalog, options.limits ?? DEFAULT_TELEMETRY_LIMITS),
    retention: new RetentionService(store, catalog, secrets),
    audit: new AuditService(store, secrets, keys, catalog),
    keys,
  };
}
