import { processEnvironment } from './config/process-environment.js';
import { SubjectEventService } from './retention/aging/subject-event-service.js';
import { CallTokens } from './auth/call-tokens.js';
import type { MasterKey } from './auth/master-key.js';
import { SigningKeys } from './auth/signing-keys.js';
import { DEFAULT_TOKEN_SETTINGS, type TokenSettings } from './auth/token-rules.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { isSubjectCaptured } from './streams/nats-settings.js';
import { CallOut } from './requests/rights-clients/call-out.js';
import { createTransport } from './requests/rights-clients/rights-client-transports.js';
import type { Store } from './store/store.js';
import { AuditService } from './audit/audit-service.js';
import { CatalogCache } from './retention/catalog-cache.js';
import { DataMapService } from './datamap/datamap-service.js';
import { DiscoveryService } from './datamap/discovery/discovery-service.js';
import { GraphService } from './datamap/graph-service.js';
import { OverviewService } from './overview/overview-service.js';
import { ConnectorService } from './requests/connector-service.js';
import { ContractService } from './streams/contract-service.js';
import { FieldKeyService } from './streams/field-key-service.js';
import type { Duration } from './lib/duration.js';
import { SILENT_LOGGER, type Logger } from './lib/logger.js';
import { StreamRetentionSweep } from './streams/stream-retention-sweep.js';
import { KeyRetentionSweep } from './streams/key-retention-sweep.js';
import { ManifestService } from './manifests/manifest-service.js';
import { RequestReportService } from './requests/request-report-service.js';
import { RequestRunner } from './requests/request-runner.js';
import { RequestService } from './requests/request-service.js';
import { DEFAULT_REQUEST_SETTINGS, type RequestSettings } from './requests/request-settings.js';
import { RequestVault } from './requests/request-vault.js';
import { ReportService } from './datamap/report-service.js';
import { DEFAULT_RECOMPUTE_WAIT_MS, PolicyService } from './retention/policy-service.js';
import { DEFAULT_JOB_RUNNER_SETTINGS, JobRunner, type JobRunnerSettings } from './jobs/job-runner.js';
import { JobService } from './jobs/job-service.js';
import { recomputeJobKind } from './retention/recompute-job.js';
import { ConsentService } from './consent/consent-service.js';
import { RetentionService } from './retention/retention-service.js';
import { HoldService } from './retention/holds/hold-service.js';
import { ExpireNowService } from './retention/expire-now/expire-now-service.js';
import { ServerSecrets } from './auth/server-secrets.js';
import { SuppressionWatch } from './retention/suppression-watch.js';
import { forgetSubjectOnErasure } from './retention/subject-erasure.js';
import { SystemService } from './retention/system-service.js';
import { shredStreamKeysOnErasure } from './streams/stream-key-erasure.js';
import { DEFAULT_STREAM_LIMITS, StreamService, type StreamLimits } from './streams/stream-service.js';
import { StreamExportRunner } from './streams/exports/stream-export-runner.js';
import { StreamExportService } from './streams/exports/stream-export-service.js';
import { DEFAULT_EVENT_ID_WINDOW, EventIdWindow } from './retention/journal/event-id-window.js';
import {
  DEFAULT_JOURNAL_SETTINGS,
  JournalFold,
  type JournalSettings,
} from './retention/journal/journal-fold.js';
import { WebhookDeliverer, type DeliveryCounter } from './webhooks/webhook-deliverer.js';
import { WebhookNotices } from './webhooks/webhook-notices.js';
import { WebhookLogRetention } from './webhooks/webhook-log-retention.js';
import { WebhookService } from './webhooks/webhook-service.js';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from './webhooks/webhook-settings.js';
import {
  DEFAULT_TELEMETRY_LIMITS,
  TelemetryService,
  type TelemetryLimits,
} from './retention/telemetry-service.js';

export interface Services {
  readonly store: Store;
  readonly policies: PolicyService;
  /** Background jobs as the API shows them. */
  readonly jobs: JobService;
  /** Runs background jobs (retention recomputes); `createLethe` starts it. */
  readonly jobRunner: JobRunner;
  readonly systems: SystemService;
  readonly telemetry: TelemetryService;
  /** Folds the usage journal into the expiries; `createLethe` starts its loop. */
  readonly journal: JournalFold;
  /** Forgets event ids past the dedupe window; `createLethe` runs it on a timer. */
  readonly eventIds: EventIdWindow;
  readonly retention: RetentionService;
  /** Legal holds: what they cover leaves the due feed until they are released. */
  readonly holds: HoldService;
  /** Expire now: a DPO's decision that a subject's fields are due at once. */
  readonly expireNow: ExpireNowService;
  /** Subject events, which `event:` policies count from. */
  readonly subjectEvents: SubjectEventService;
  /** Consent per subject and purpose, and the uses made without it. */
  readonly consent: ConsentService;
  readonly datamap: DataMapService;
  readonly discovery: DiscoveryService;
  readonly manifests: ManifestService;
  readonly graph: GraphService;
  readonly reports: ReportService;
  readonly secrets: ServerSecrets;
  readonly audit: AuditService;
  readonly requests: RequestService;
  readonly requestReports: RequestReportService;
  readonly connectors: ConnectorService;
  /** The dashboard's overview counts. */
  readonly overview: OverviewService;
  /** Flags telemetry about people a completed erasure removed. */
  readonly suppressions: SuppressionWatch;
  /** Carries out the tasks of running rights requests; `createLethe` starts its timer. */
  readonly runner: RequestRunner;
  /** The server's own signing keys (tokens, audit checkpoints, outgoing-call tokens). */
  readonly keys: SigningKeys;
  /** Privacy streams: data contracts, the base stream and its derived streams, field keys. */
  readonly contracts: ContractService;
  readonly streams: StreamService;
  readonly fieldKeys: FieldKeyService;
  /** Shreds field keys past their contract's key retention; `createLethe` runs it on a timer. */
  readonly keyRetention: KeyRetentionSweep;
  /** Deletes base-stream events past the stream retention; `createLethe` runs it on a timer. */
  readonly streamRetention: StreamRetentionSweep;
  /** Exports of privacy streams to files and NATS (configuration and status). */
  readonly streamExports: StreamExportService;
  /** Runs the exports this node holds; only with an export directory. `createLethe` starts it. */
  readonly exportRunner?: StreamExportRunner;
  /** Webhook subscriptions and their delivery log. */
  readonly webhooks: WebhookService;
  /** Sends the webhook outbox; `createLethe` runs it on a timer. */
  readonly webhookDeliverer: WebhookDeliverer;
  /** Finds overdue and due-soon requests and the day's due fields; `createLethe` runs it on a timer. */
  readonly webhookNotices: WebhookNotices;
  /** Deletes the webhook log past its retention; `createLethe` runs it on a timer. */
  readonly webhookLogRetention: WebhookLogRetention;
}

export interface ServiceOptions {
  readonly keys?: SigningKeys;
  readonly limits?: TelemetryLimits;
  /** The usage journal's fold and backlog limit (default `DEFAULT_JOURNAL_SETTINGS`). */
  readonly journal?: JournalSettings;
  /** How long event ids are remembered for dedupe (default P7D; `LETHE_EVENT_ID_WINDOW`). */
  readonly eventIdWindow?: Duration;
  readonly discoveryTimeoutMs?: number;
  readonly requestSettings?: RequestSettings;
  readonly tokenSettings?: TokenSettings;
  /** Where connectors' connection strings are looked up (default: the process's environment). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** gRPC rights clients without TLS (loopback tests, a service mesh that adds mTLS). */
  readonly grpcInsecure?: boolean;
  readonly streamLimits?: StreamLimits;
  /** Length of a privacy-stream key's rotation period (default 24 h). */
  readonly streamKeyRotationMs?: number;
  /** How long base-stream events are kept (default: for ever). */
  readonly streamRetention?: Duration;
  /** The NATS connection when `NATS_URL` is set: NATS exports need it. */
  readonly nats?: NatsConnection;
  /** Where file exports are written (`<exportDir>/<name>/`). */
  readonly exportDir?: string;
  /** Where services log what they cannot answer with (default: nowhere); `createLethe` passes its own. */
  readonly logger?: Logger;
  /** Leases, polling and pacing of background jobs (default `DEFAULT_JOB_RUNNER_SETTINGS`). */
  readonly jobRunner?: JobRunnerSettings;
  /** Subject-fields per step of a retention recompute (default 500). */
  readonly recomputeChunk?: number;
  /** How long a policy `PUT` waits for its recompute before answering with its progress (default 2 s). */
  readonly recomputeWaitMs?: number;
  /** Webhook delivery: timeouts, retries, http receivers (default `DEFAULT_WEBHOOK_SETTINGS`). */
  readonly webhooks?: WebhookSettings;
  /** Counts webhook delivery outcomes (`lethe_webhook_deliveries_total`). */
  readonly webhookCounter?: DeliveryCounter;
  /** Epoch milliseconds for the webhook sweeps and deliveries (default `Date.now`); tests move it. */
  readonly now?: () => number;
}

/** Wires the services over one store, whose key material is wrapped under `masterKey`. */
export function createServices(store: Store, masterKey: MasterKey, options: ServiceOptions = {}): Services {
  const log = options.logger ?? SILENT_LOGGER;
  const keys = options.keys ?? new SigningKeys(store, masterKey);
  // A private store is only changed through this process; a shared one is revalidated each second.
  const catalog = new CatalogCache(store.repository, store.capabilities.shared ? 1_000 : Infinity);
  const secrets = new ServerSecrets(store.repository, masterKey);
  const jobRunner = new JobRunner(store, options.jobRunner ?? DEFAULT_JOB_RUNNER_SETTINGS, log);
  jobRunner.register(recomputeJobKind(options.recomputeChunk));
  const policies = new PolicyService(store, catalog, {
    scheduled: () => jobRunner.wake(),
    waitMs: options.recomputeWaitMs ?? DEFAULT_RECOMPUTE_WAIT_MS,
  });
  const systems = new SystemService(store, catalog);
  const datamap = new DataMapService(store);
  const discovery = new DiscoveryService(
    store,
    options.discoveryTimeoutMs !== undefined ? { timeoutMs: options.discoveryTimeoutMs } : {},
  );
  const graph = new GraphService(store);
  const holds = new HoldService(store, secrets);
  const overview = new OverviewService(store, catalog);
  const connectors = new ConnectorService(store, options.env ?? processEnvironment());
  const suppressions = new SuppressionWatch(store, secrets);
  const journal = new JournalFold(store, options.journal ?? DEFAULT_JOURNAL_SETTINGS, log);
  const { vault, runner, requests } = requestServices(
    store,
    masterKey,
    { keys, graph, secrets, log },
    options,
  );
  const { contracts, fieldKeys, streams, exportRunner, streamExports } = streamServices(
    store,
    masterKey,
    log,
    options,
  );
  const webhookSettings = options.webhooks ?? DEFAULT_WEBHOOK_SETTINGS;
  const webhooks = new WebhookService(store, masterKey, webhookSettings);
  const now = options.now ?? Date.now;
  const webhookDeliverer = new WebhookDeliverer(
    store,
    masterKey,
    webhookSettings,
    log,
    options.webhookCounter,
    now,
  );
  const streamKeyErasure = shredStreamKeysOnErasure(vault, fieldKeys);
  // Lethe's own usage and expiry rows of the subject go first, then the stream keys.
  const forgetSubject = forgetSubjectOnErasure(vault);
  for (const hook of [forgetSubject, streamKeyErasure]) {
    requests.whenErased(hook);
    runner.whenErased(hook);
  }
  return {
    store,
    consent: new ConsentService(store, secrets),
    requests,
    requestReports: new RequestReportService(store, vault),
    connectors,
    overview,
    runner,
    secrets,
    policies,
    jobs: new JobService(store),
    jobRunner,
    systems,
    datamap,
    discovery,
    reports: new ReportService(store),
    graph,
    manifests: new ManifestService(store, catalog, {
      policies,
      systems,
      datamap,
      discovery,
      connectors,
      contracts,
      holds,
      webhooks,
    }),
    telemetry: new TelemetryService(
      store,
      catalog,
      options.limits ?? DEFAULT_TELEMETRY_LIMITS,
      suppressions,
      log,
      journal,
    ),
    journal,
    eventIds: new EventIdWindow(
      store,
      options.eventIdWindow ?? DEFAULT_EVENT_ID_WINDOW,
      (options.limits ?? DEFAULT_TELEMETRY_LIMITS).maxClockSkewMs,
    ),
    suppressions,
    retention: new RetentionService(store, catalog, secrets),
    holds,
    expireNow: new ExpireNowService(store, catalog),
    subjectEvents: new SubjectEventService(
      store,
      (options.limits ?? DEFAULT_TELEMETRY_LIMITS).maxClockSkewMs,
      options.eventIdWindow ?? DEFAULT_EVENT_ID_WINDOW,
    ),
    audit: new AuditService(store, secrets, keys, catalog),
    keys,
    contracts,
    fieldKeys,
    streams,
    keyRetention: new KeyRetentionSweep(contracts, fieldKeys),
    streamRetention: new StreamRetentionSweep(store, options.streamRetention),
    streamExports,
    ...(exportRunner ? { exportRunner } : {}),
    webhooks,
    webhookDeliverer,
    webhookNotices: new WebhookNotices(store, (at) => overview.fieldsPastExpiry(at), now),
    webhookLogRetention: new WebhookLogRetention(store, webhookSettings.logRetention),
  };
}

/** Rights requests: the service people and systems drive, and the runner that carries out tasks. */
function requestServices(
  store: Store,
  masterKey: MasterKey,
  shared: { keys: SigningKeys; graph: GraphService; secrets: ServerSecrets; log: Logger },
  options: ServiceOptions,
) {
  const { keys, graph, secrets, log } = shared;
  const requestSettings = options.requestSettings ?? DEFAULT_REQUEST_SETTINGS;
  const vault = new RequestVault(masterKey);
  const callTokens = new CallTokens(keys, options.tokenSettings ?? DEFAULT_TOKEN_SETTINGS);
  const callOut = new CallOut(callTokens);
  const runner = new RequestRunner(
    store,
    vault,
    secrets,
    requestSettings,
    (client) =>
      createTransport(
        {
          name: client.name,
          protocol: client.protocol,
          ...(client.address !== null ? { address: client.address } : {}),
        },
        {
          callOut,
          tokens: callTokens,
          ...(options.grpcInsecure ? { grpcCredentials: 'insecure' as const } : {}),
        },
      ),
    log,
    options.env ?? processEnvironment(),
  );
  const requests = new RequestService(store, graph, vault, secrets, requestSettings, log, () =>
    runner.wake(),
  );
  runner.recoverStartsWith(() => requests.startInterrupted());
  return { vault, runner, requests };
}

/** Privacy streams: contracts, field keys, the stream itself, and its exports. */
function streamServices(store: Store, masterKey: MasterKey, log: Logger, options: ServiceOptions) {
  const contracts = new ContractService(store);
  const fieldKeys = new FieldKeyService(
    store,
    masterKey,
    options.streamKeyRotationMs ? { rotationMs: options.streamKeyRotationMs } : {},
  );
  const streams = new StreamService(
    store,
    contracts,
    fieldKeys,
    options.streamLimits ?? DEFAULT_STREAM_LIMITS,
  );
  const exportRunner = options.exportDir
    ? new StreamExportRunner(store, {
        reader: streams,
        exportDir: options.exportDir,
        ...(options.nats ? { nats: options.nats } : {}),
        log: (message, error) => log.error({ err: error }, message),
      })
    : undefined;
  const streamExports = new StreamExportService(store, {
    natsEnabled: options.nats !== undefined,
    head: () => store.repository.streams.lastSeq(),
    ...(exportRunner ? { onChange: () => exportRunner.wake() } : {}),
    isPurpose: async (key) => (await contracts.purposes()).has(key),
    ...(options.nats ? { isCaptured: (subject: string) => isSubjectCaptured(options.nats!, subject) } : {}),
  });
  return { contracts, fieldKeys, streams, exportRunner, streamExports };
}
