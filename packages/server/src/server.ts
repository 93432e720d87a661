import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadSettings } from './config/load-settings.js';
import { processEnvironment } from './config/process-environment.js';
import { ConfigError } from './config/config-error.js';
import type { Settings } from './config/settings.js';
import { buildApp } from './http/app.js';
import { createLogger, type LoggerSetting } from './http/logging.js';
import { Metrics } from './http/metrics.js';
import type { RateLimitSettings } from './http/rate-limit.js';
import type { TypedApp } from './http/typed-app.js';
import { ExternalIssuer, type ExternalIssuerConfig } from './auth/external-issuer.js';
import { openKeyedStore } from './auth/key-material.js';
import { OidcSignIn } from './session/oidc/oidc-sign-in.js';
import type { OidcSignInConfig } from './session/oidc/oidc-sign-in-settings.js';
import type { MasterKey } from './auth/master-key.js';
import { BackgroundJobs } from './lib/background-jobs.js';
import { parseDuration, type Duration } from './lib/duration.js';
import { SigningKeys } from './auth/signing-keys.js';
import { DEFAULT_TOKEN_SETTINGS, type TokenSettings } from './auth/token-rules.js';
import { Tokens } from './auth/tokens.js';
import type { RequestSettings } from './requests/request-settings.js';
import type { JournalSettings } from './retention/journal/journal-fold.js';
import { DEFAULT_JOB_RUNNER_SETTINGS, type JobRunnerSettings } from './jobs/job-runner.js';
import { keyRotationJob, upkeepJobs, webhookJobs } from './server-jobs.js';
import { registerDomainGauges } from './observability/domain-gauges.js';
import { startTracing, tracingConfigured, type Tracing } from './observability/tracing.js';
import { createServices, type Services } from './services.js';
import { parseNetwork } from './webhooks/webhook-address.js';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from './webhooks/webhook-settings.js';
import type { StoreLocation } from './store/open-store.js';
import { startNatsConsumers } from './server-nats.js';
import { ensureNatsTopology, natsSettingsFromEnv } from './streams/nats-settings.js';

export interface LetheOptions extends StoreLocation {
  readonly tokenSettings?: TokenSettings;
  /**
   * Logging: off (default), on, pino/Fastify logger options, or a logger. Made once and shared by
   * the HTTP app and the services.
   */
  readonly logger?: LoggerSetting;
  /** Requests per principal on `/v1`; `false` turns the limit off (see `AppOptions`). */
  readonly rateLimit?: RateLimitSettings | false;
  /** Age at which the signing key is replaced (default 24 h); checked every minute. */
  readonly keyRotationIntervalMs?: number;
  /** External OIDC issuers whose tokens are accepted besides Lethe's own. */
  readonly externalIssuers?: readonly ExternalIssuerConfig[];
  /** The dashboard's sign-in through the company's OIDC provider (`LETHE_OIDC_CLIENT_ID`, …). */
  readonly oidcSignIn?: OidcSignInConfig;
  /** How often the audit log's head is signed as a checkpoint (default hourly). */
  readonly auditCheckpointIntervalMs?: number;
  /** How often due discovery sources are looked for (default every 5 s; each has its own interval). */
  readonly discoveryTickMs?: number;
  /** How often privacy-stream keys past their contract's key retention are shredded (default 10 min). */
  readonly keyRetentionSweepMs?: number;
  /** Rotation period of privacy-stream keys (default 24 h; `LETHE_STREAM_KEY_ROTATION`). */
  readonly streamKeyRotationMs?: number;
  /** The usage journal's fold and backlog limit (default `DEFAULT_JOURNAL_SETTINGS`). */
  readonly journal?: JournalSettings;
  /** How long event ids are remembered for dedupe (`LETHE_EVENT_ID_WINDOW`; default P7D). */
  readonly eventIdWindow?: Duration;
  /** How often event ids past the window are forgotten (default hourly). */
  readonly eventIdSweepMs?: number;
  /** How long base-stream events are kept (`LETHE_STREAM_RETENTION`; default for ever). */
  readonly streamRetention?: Duration;
  /** How rights requests are handled (deadlines, required steps, retries); see `RequestSettings`. */
  readonly requestSettings?: RequestSettings;
  /** How often due rights-request tasks are looked for (default every second). */
  readonly requestTickMs?: number;
  /** The built dashboard served at `/` (default: `packages/dashboard/dist`). */
  readonly dashboardDir?: string;
  /** How long a client may take to send a whole request (default 60 s; `LETHE_REQUEST_TIMEOUT`). */
  readonly requestTimeoutMs?: number;
  /** gRPC rights clients without TLS (default: TLS). */
  readonly grpcInsecure?: boolean;
  /**
   * The environment: connectors' connection strings, and the settings when `settings` is not
   * given (default: the process's environment).
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The checked settings (`lethe serve` passes those of its flags, environment and file): NATS,
   * the export dir and the master key's location are read from them. Default: from `env`.
   */
  readonly settings?: Settings;
  /** Epoch milliseconds, for tokens and key rotation; tests move it. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * The key that wraps the signing keys and the installation secret in the store. Default: as
   * `lethe serve` finds it, `LETHE_MASTER_KEY`, `LETHE_MASTER_KEY_FILE`, else `master.key` in
   * `dataDir` (created on first start). A key that does not match the store rejects.
   */
  readonly masterKey?: MasterKey;
  /** Where file exports are written (default `LETHE_EXPORT_DIR`, else `<dataDir>/exports`). */
  readonly exportDir?: string;
  /** Background jobs' leases, polling and pacing (default `DEFAULT_JOB_RUNNER_SETTINGS`). */
  readonly jobRunner?: JobRunnerSettings;
  /** Subject-fields per step of a retention recompute (default 500). */
  readonly recomputeChunk?: number;
  /** How long a policy `PUT` waits for its recompute before answering with its progress (default 2 s). */
  readonly recomputeWaitMs?: number;
  /**
   * OpenTelemetry traces of the HTTP requests. Default: on when the standard `OTEL_*` variables of
   * the process ask for them (`tracingConfigured`), else off and never loaded.
   */
  readonly tracing?: boolean;
  /** Webhook delivery: timeouts, retries, ticks (default `DEFAULT_WEBHOOK_SETTINGS`; tests shorten them). */
  readonly webhooks?: Partial<WebhookSettings>;
}

export const DEFAULT_REQUEST_TICK_MS = 1_000;

export interface Lethe {
  readonly app: TypedApp;
  readonly services: Services;
  readonly tokens: Tokens;
  close(): Promise<void>;
}

/**
 * Opens the store (running migrations) with its master key, wires services and the HTTP app; does
 * not listen. Rejects with a `MasterKeyError` when the master key is malformed or does not match.
 */
export async function createLethe(options: LetheOptions): Promise<Lethe> {
  const env = options.env ?? processEnvironment();
  const settings = options.settings ?? loadSettings({ env });
  const { store, masterKey } = await openKeyedStore(options, {
    masterKey: options.masterKey,
    env: settings.explicit,
  });
  // One logger for the HTTP app and the services, made as Fastify would make it from the option.
  const logger = createLogger(options.logger);
  const metrics = new Metrics();
  const jobs = new BackgroundJobs(logger, metrics);
  let nats: NatsConnection | undefined;
  let tracing: Tracing | undefined;
  try {
    // The standard OTEL_* variables, read by the OpenTelemetry SDK itself (docs/observability.md).
    const otel = processEnvironment();
    if (options.tracing ?? tracingConfigured(otel)) tracing = await startTracing(otel);
    // NATS_URL turns the JetStream ingest and NATS exports on; the streams are made here.
    const natsSettings = natsSettingsFromEnv(settings.explicit);
    if (natsSettings) {
      nats = await connect({ servers: natsSettings.url, name: 'lethe', maxReconnectAttempts: -1 });
      await ensureNatsTopology(await jetstreamManager(nats), natsSettings);
    }
    const keys = new SigningKeys(store, masterKey, {
      ...(options.now ? { now: options.now } : {}),
      ...(options.keyRotationIntervalMs ? { rotationIntervalMs: options.keyRotationIntervalMs } : {}),
    });
    const services = createServices(store, masterKey, {
      keys,
      logger,
      webhooks: webhookSettings(settings, options),
      webhookCounter: metrics.webhookDeliveries,
      ...(options.now ? { now: options.now } : {}),
      ...(options.tokenSettings ? { tokenSettings: options.tokenSettings } : {}),
      ...(options.requestSettings ? { requestSettings: options.requestSettings } : {}),
      env,
      ...(options.streamKeyRotationMs ? { streamKeyRotationMs: options.streamKeyRotationMs } : {}),
      ...(options.streamRetention ? { streamRetention: options.streamRetention } : {}),
      ...(options.eventIdWindow ? { eventIdWindow: options.eventIdWindow } : {}),
      ...(options.journal ? { journal: options.journal } : {}),
      ...(options.grpcInsecure ? { grpcInsecure: true } : {}),
      ...(options.jobRunner ? { jobRunner: options.jobRunner } : {}),
      ...(options.recomputeChunk ? { recomputeChunk: options.recomputeChunk } : {}),
      ...(options.recomputeWaitMs !== undefined ? { recomputeWaitMs: options.recomputeWaitMs } : {}),
      ...(nats ? { nats } : {}),
      exportDir: options.exportDir ?? settings.get('LETHE_EXPORT_DIR') ?? join(options.dataDir, 'exports'),
    });
    const clock = options.now ? { now: options.now } : {};
    registerDomainGauges(metrics, store, services.overview, { log: logger, ...clock });
    const tokens = new Tokens(keys, options.tokenSettings ?? DEFAULT_TOKEN_SETTINGS, {
      externalIssuers: (options.externalIssuers ?? []).map(
        (config) => new ExternalIssuer({ ...clock, ...config }),
      ),
    });
    const app = await buildApp({
      services,
      tokens,
      logger,
      rateLimit: options.rateLimit,
      metrics,
      ...(tracing ? { tracing: tracing.plugin } : {}),
      ...(options.dashboardDir !== undefined ? { dashboardDir: options.dashboardDir } : {}),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.oidcSignIn
        ? {
            oidcSignIn: new OidcSignIn(options.oidcSignIn, store, services.secrets, tokens, {
              ...(options.now ? { now: options.now } : {}),
            }),
          }
        : {}),
    });
    // The key's id and where it came from, never the key.
    logger.info(
      { masterKey: masterKey.id },
      `key material is encrypted under the master key from ${masterKey.source}`,
    );
    await jobs.start(keyRotationJob(keys, logger));
    await services.fieldKeys.adoptRotation();
    const webhookUpkeep = webhookJobs(services, logger, webhookSettings(settings, options));
    for (const job of [...upkeepJobs(services, logger, options), ...webhookUpkeep]) await jobs.start(job);
    // The usage journal's fold: what a previous life left is folded first, in the background.
    await services.journal.start(metrics);
    await startJobRunner(services, jobs, options);
    // Rights requests: tasks are taken up at start (a restart resumes them) and every second.
    services.runner.start(options.requestTickMs ?? DEFAULT_REQUEST_TICK_MS);
    // Privacy streams and usage telemetry over JetStream (when NATS_URL is set).
    const consumers =
      nats && natsSettings
        ? await startNatsConsumers(nats, natsSettings, services, tokens, metrics, logger)
        : undefined;
    services.exportRunner?.start();
    return {
      app,
      services,
      tokens,
      async close() {
        // Consumers first: a batch they are storing still has the journal to append to.
        await consumers?.stop();
        // Before the timers: their stop waits for the run under way, which ends at the next step.
        await services.jobRunner.stop();
        await jobs.stop();
        await services.journal.stop();
        await services.runner.stop();
        await services.exportRunner?.stop();
        await app.close();
        // The spans of the last requests are exported before the process may exit.
        await tracing?.shutdown();
        // Drain flushes what is in flight; a connection that is already gone just closes.
        await nats?.drain().catch(() => nats?.close());
        await store.close();
      },
    };
  } catch (error) {
    await jobs.stop();
    await tracing?.shutdown();
    await nats?.close();
    await store.close();
    throw error;
  }
}

/** Background jobs: what a previous life left open is taken up again, then polled for. */
async function startJobRunner(
  services: Services,
  jobs: BackgroundJobs,
  options: LetheOptions,
): Promise<void> {
  const runner = services.jobRunner;
  await runner.start();
  await jobs.start({
    name: 'job-runner',
    intervalMs: options.jobRunner?.pollMs ?? DEFAULT_JOB_RUNNER_SETTINGS.pollMs,
    failure: 'background job runner failed',
    run: () => runner.tick(),
  });
  runner.wake();
}

/** Webhook delivery: the defaults, http receivers as the settings allow, what the caller changes. */
function webhookSettings(settings: Settings, options: LetheOptions): WebhookSettings {
  return {
    ...DEFAULT_WEBHOOK_SETTINGS,
    allowHttp: settings.get('LETHE_WEBHOOK_ALLOW_HTTP') === 'true',
    allowedNetworks: allowedNetworks(settings.get('LETHE_WEBHOOK_ALLOWED_NETWORKS') ?? ''),
    // Checked as a duration when the settings are loaded; the default when unset.
    logRetention:
      parseDuration(settings.get('LETHE_WEBHOOK_LOG_RETENTION') ?? '') ??
      DEFAULT_WEBHOOK_SETTINGS.logRetention,
    ...options.webhooks,
  };
}

/** LETHE_WEBHOOK_ALLOWED_NETWORKS, each a CIDR; a wrong one stops the server before it starts. */
function allowedNetworks(text: string): string[] {
  const networks = text
    .split(',')
    .map((network) => network.trim())
    .filter((network) => network !== '');
  for (const network of networks) {
    try {
      parseNetwork(network);
    } catch (error) {
      throw new ConfigError(`LETHE_WEBHOOK_ALLOWED_NETWORKS: ${(error as Error).message}`);
    }
  }
  return networks;
}
