import { join } from 'node:path';
import type { FastifyServerOptions } from 'fastify';
import { connect, type NatsConnection } from 'nats';
import { buildApp } from './http/app.js';
import { Metrics } from './http/metrics.js';
import type { RateLimitSettings } from './http/rate-limit.js';
import type { TypedApp } from './http/typed-app.js';
import { ExternalIssuer, type ExternalIssuerConfig } from './auth/external-issuer.js';
import { openKeyedStore } from './auth/key-material.js';
import type { MasterKey } from './auth/master-key.js';
import type { Duration } from './lib/duration.js';
import { LETHE_ITSELF } from './auth/principal.js';
import { SigningKeys } from './auth/signing-keys.js';
import { DEFAULT_TOKEN_SETTINGS, type TokenSettings } from './auth/token-rules.js';
import { Tokens } from './auth/tokens.js';
import type { RequestSettings } from './requests/request-settings.js';
import { createServices, type Services } from './services.js';
import type { StoreLocation } from './store/open-store.js';
import { JetStreamIngest } from './streams/jetstream-ingest.js';
import { ensureNatsTopology, natsSettingsFromEnv } from './streams/nats-settings.js';

export interface LetheOptions extends StoreLocation {
  readonly tokenSettings?: TokenSettings;
  readonly logger?: FastifyServerOptions['logger'];
  /** Requests per principal on `/v1`; `false` turns the limit off (see `AppOptions`). */
  readonly rateLimit?: RateLimitSettings | false;
  /** Age at which the signing key is replaced (default 24 h); checked every minute. */
  readonly keyRotationIntervalMs?: number;
  /** External OIDC issuers whose tokens are accepted besides Lethe's own. */
  readonly externalIssuers?: readonly ExternalIssuerConfig[];
  /** How often the audit log's head is signed as a checkpoint (default hourly). */
  readonly auditCheckpointIntervalMs?: number;
  /** How often due discovery sources are looked for (default every 5 s; each has its own interval). */
  readonly discoveryTickMs?: number;
  /** How often privacy-stream keys past their contract's key retention are shredded (default 10 min). */
  readonly keyRetentionSweepMs?: number;
  /** Rotation period of privacy-stream keys (default 24 h; `LETHE_STREAM_KEY_ROTATION`). */
  readonly streamKeyRotationMs?: number;
  /** How long base-stream events are kept (`LETHE_STREAM_RETENTION`; default for ever). */
  readonly streamRetention?: Duration;
  /** How rights requests are handled (deadlines, required steps, retries); see `RequestSettings`. */
  readonly requestSettings?: RequestSettings;
  /** How often due rights-request tasks are looked for (default every second). */
  readonly requestTickMs?: number;
  /** The built dashboard served at `/` (default: `packages/dashboard/dist`). */
  readonly dashboardDir?: string;
  /** gRPC rights clients without TLS (default: TLS). */
  readonly grpcInsecure?: boolean;
  /** Where connectors' connection strings are read (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
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
}

export const DEFAULT_AUDIT_CHECKPOINT_INTERVAL_MS = 60 * 60_000;
export const DEFAULT_DISCOVERY_TICK_MS = 5_000;
export const DEFAULT_REQUEST_TICK_MS = 1_000;
export const DEFAULT_KEY_RETENTION_SWEEP_MS = 10 * 60_000;

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
  const { store, masterKey } = await openKeyedStore(options, { masterKey: options.masterKey });
  const env = options.env ?? process.env;
  let nats: NatsConnection | undefined;
  try {
    // NATS_URL turns the JetStream ingest and NATS exports on; the streams are made here.
    const natsSettings = natsSettingsFromEnv(env);
    if (natsSettings) {
      nats = await connect({ servers: natsSettings.url, name: 'lethe', maxReconnectAttempts: -1 });
      await ensureNatsTopology(await nats.jetstreamManager(), natsSettings);
    }
    const keys = new SigningKeys(store, masterKey, {
      ...(options.now ? { now: options.now } : {}),
      ...(options.keyRotationIntervalMs ? { rotationIntervalMs: options.keyRotationIntervalMs } : {}),
    });
    const services = createServices(store, masterKey, {
      keys,
      ...(options.tokenSettings ? { tokenSettings: options.tokenSettings } : {}),
      ...(options.requestSettings ? { requestSettings: options.requestSettings } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.streamKeyRotationMs ? { streamKeyRotationMs: options.streamKeyRotationMs } : {}),
      ...(options.streamRetention ? { streamRetention: options.streamRetention } : {}),
      ...(options.grpcInsecure ? { grpcInsecure: true } : {}),
      ...(nats ? { nats } : {}),
      exportDir: options.exportDir ?? env['LETHE_EXPORT_DIR'] ?? join(options.dataDir, 'exports'),
    });
    const tokens = new Tokens(keys, options.tokenSettings ?? DEFAULT_TOKEN_SETTINGS, {
      externalIssuers: (options.externalIssuers ?? []).map(
        (config) => new ExternalIssuer({ ...(options.now ? { now: options.now } : {}), ...config }),
      ),
    });
    const metrics = new Metrics();
    const app = await buildApp({
      services,
      tokens,
      logger: options.logger,
      rateLimit: options.rateLimit,
      metrics,
      ...(options.dashboardDir !== undefined ? { dashboardDir: options.dashboardDir } : {}),
    });
    // The key's id and where it came from, never the key.
    app.log.info(
      { masterKey: masterKey.id },
      `key material is encrypted under the master key from ${masterKey.source}`,
    );
    // Key rotation: at start (the server may have been down for days) and every minute after.
    const checkRotation = () =>
      keys.rotateIfDue().then(
        (rotated) => {
          if (rotated)
            app.log.info(
              {
                kid: rotated.kid,
                activatesAt: new Date(rotated.activatesAt).toISOString(),
                previous: rotated.previous?.kid,
              },
              'next signing key published',
            );
        },
        (error: unknown) => app.log.error({ err: error }, 'signing key rotation failed'),
      );
    await checkRotation();
    await services.fieldKeys.adoptRotation();
    // Audit checkpoints: the chain head signed every hour (none when nothing was appended).
    const checkpointAudit = () =>
      services.audit.checkpoint(LETHE_ITSELF).then(
        (checkpoint) => {
          if (checkpoint) app.log.info({ seq: checkpoint.seq }, 'audit checkpoint signed');
        },
        (error: unknown) => app.log.error({ err: error }, 'audit checkpoint failed'),
      );
    // Discovery: every source whose interval has passed is read; a failure is kept on the source.
    const discover = () =>
      services.discovery
        .runDue()
        .catch((error: unknown) => app.log.error({ err: error }, 'data map discovery failed'));
    const discoveryTimer = setInterval(
      () => void discover(),
      options.discoveryTickMs ?? DEFAULT_DISCOVERY_TICK_MS,
    ).unref();
    // Key retention: field keys whose period ended longer ago than their contract keeps keys;
    // stream retention: base-stream events older than LETHE_STREAM_RETENTION, once exported.
    const sweepKeys = () =>
      Promise.all([
        services.keyRetention.run().then(
          (shredded) => {
            for (const [contract, count] of shredded) {
              app.log.info({ contract, count }, 'privacy-stream keys shredded after their retention');
            }
          },
          (error: unknown) => app.log.error({ err: error }, 'key retention sweep failed'),
        ),
        services.streamRetention.run().then(
          (deleted) => {
            if (deleted > 0) app.log.info({ deleted }, 'privacy-stream events past their retention deleted');
          },
          (error: unknown) => app.log.error({ err: error }, 'stream retention sweep failed'),
        ),
      ]);
    const keyRetentionTimer = setInterval(
      () => void sweepKeys(),
      options.keyRetentionSweepMs ?? DEFAULT_KEY_RETENTION_SWEEP_MS,
    ).unref();
    // Rights requests: tasks are taken up at start (a restart resumes them) and every second.
    services.runner.start(options.requestTickMs ?? DEFAULT_REQUEST_TICK_MS);
    // Privacy streams: the JetStream ingest consumer, and the exports this node holds.
    const natsIngest =
      nats && natsSettings
        ? new JetStreamIngest(nats, natsSettings, services.streams, {
            metrics,
            log: (message, error) => app.log.error({ err: error }, message),
          })
        : undefined;
    await natsIngest?.start();
    services.exportRunner?.start();
    const rotationTimer = setInterval(() => void checkRotation(), 60_000).unref();
    const checkpointTimer = setInterval(
      () => void checkpointAudit(),
      options.auditCheckpointIntervalMs ?? DEFAULT_AUDIT_CHECKPOINT_INTERVAL_MS,
    ).unref();
    return {
      app,
      services,
      tokens,
      async close() {
        clearInterval(discoveryTimer);
        clearInterval(keyRetentionTimer);
        clearInterval(rotationTimer);
        clearInterval(checkpointTimer);
        await services.runner.stop();
        await natsIngest?.stop();
        await services.exportRunner?.stop();
        await app.close();
        // Drain flushes what is in flight; a connection that is already gone just closes.
        await nats?.drain().catch(() => nats?.close());
        await store.close();
      },
    };
  } catch (error) {
    await nats?.close();
    await store.close();
    throw error;
  }
}
