import { streamKeyRotationFromEnv } from '../streams/field-key-service.js';
import { streamRetentionFromEnv } from '../streams/stream-retention-sweep.js';
import { eventIdWindowFromEnv } from '../retention/journal/event-id-window.js';
import type { Command } from 'commander';
import { logFormatFromEnv, loggerOptions, prettyLogStream } from '../http/logging.js';
import { rateLimitFromEnv } from '../http/rate-limit.js';
import { requestTimeoutFromEnv } from '../http/request-timeout.js';
import { externalIssuerFromEnv } from '../auth/external-issuer.js';
import { oidcSignInFromEnv } from '../session/oidc/oidc-sign-in-settings.js';
import { keyRotationFromEnv } from '../auth/signing-keys.js';
import { requestSettingsFromEnv } from '../requests/request-settings.js';
import { commandSettings } from '../config/process-environment.js';
import { natsSettingsFromEnv } from '../streams/nats-settings.js';
import { configFlag, dataDirFlag, dataDirOf, storeFlags, usageErrors } from './args.js';
import { tokenCommandFor } from './token-command-hint.js';

export interface ServeOptions {
  port?: string;
  host?: string;
  dataDir?: string;
  config?: string;
  demo?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the Lethe server (API, dashboard, background jobs)')
    .option('--port <port>', 'TCP port (default: PORT, else 7420)')
    .option('--host <host>', 'address to listen on (default: LETHE_HOST, else 127.0.0.1)')
    .addOption(dataDirFlag())
    .addOption(configFlag())
    .option('--demo', 'load the demo company into an empty store')
    .action((options: ServeOptions) => serveCommand(options));
}

/**
 * Every setting is read and checked here, before the store is opened or a port bound: flags, then
 * the environment, then the `--config` file, then defaults (docs/configuration.md). A bad value
 * stops the start with a message naming the setting and where it came from.
 */
export async function serveCommand(options: ServeOptions): Promise<void> {
  const settings = commandSettings({
    PORT: options.port,
    LETHE_HOST: options.host,
    ...storeFlags(options),
  });
  const port = Number(settings.get('PORT'));
  const host = settings.get('LETHE_HOST') ?? '127.0.0.1';
  const dataDir = dataDirOf(settings);
  // The features' own checks (a minimum duration, a role map, OIDC settings that go together).
  const given = settings.explicit;
  const rateLimit = usageErrors(() => rateLimitFromEnv(given));
  const requestTimeoutMs = usageErrors(() => requestTimeoutFromEnv(given));
  const keyRotationIntervalMs = usageErrors(() => keyRotationFromEnv(given));
  const streamKeyRotationMs = usageErrors(() => streamKeyRotationFromEnv(given));
  const streamRetention = usageErrors(() => streamRetentionFromEnv(given));
  const eventIdWindow = usageErrors(() => eventIdWindowFromEnv(given));
  const externalIssuer = usageErrors(() => externalIssuerFromEnv(given));
  const requestSettings = usageErrors(() => requestSettingsFromEnv(given));
  usageErrors(() => natsSettingsFromEnv(given));
  // LETHE_LOG_FORMAT (json, pretty): pretty on a terminal, JSON otherwise.
  const logFormat = usageErrors(() => logFormatFromEnv(given, process.stdout.isTTY === true));
  // LETHE_OIDC_CLIENT_ID (+ _REDIRECT_URI, …): the dashboard's sign-in through the same provider.
  const oidcSignIn = usageErrors(() => oidcSignInFromEnv(given));
  // Loaded here, not with the CLI: every other command starts without the server's modules.
  const { createLethe } = await import('../server.js');
  const lethe = await createLethe({
    dataDir,
    databaseUrl: settings.get('DATABASE_URL'),
    settings,
    // Tokens never reach the log: headers redacted, token query parameters and JWTs scrubbed.
    logger: loggerOptions({
      level: settings.get('LOG_LEVEL') ?? 'info',
      format: logFormat,
      ...(logFormat === 'pretty' ? { stream: await prettyLogStream() } : {}),
    }),
    rateLimit,
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    ...(keyRotationIntervalMs ? { keyRotationIntervalMs } : {}),
    ...(streamKeyRotationMs ? { streamKeyRotationMs } : {}),
    ...(streamRetention ? { streamRetention } : {}),
    eventIdWindow,
    ...(externalIssuer ? { externalIssuers: [externalIssuer] } : {}),
    ...(oidcSignIn ? { oidcSignIn } : {}),
    requestSettings,
    requestTickMs: Number(settings.get('LETHE_REQUEST_TICK_MS')),
    grpcInsecure: settings.get('LETHE_GRPC_INSECURE') === 'true',
  });
  const log = lethe.app.log;
  const { loadDemoCompany, DEMO_SUBJECT } = await import('../demo/demo-company.js');
  if (options.demo && (await loadDemoCompany(lethe.services))) {
    log.info(`loaded the demo company; try GET /v1/subjects/${DEMO_SUBJECT}`);
  }
  const address = await lethe.app.listen({ port, host });
  log.info(`Lethe is serving on ${address} (${lethe.services.store.capabilities.description})`);
  if (settings.file) log.info(`settings read from ${settings.file}`);
  // The exact command for this store: run from another directory without it, `token create`
  // would find no data directory (and says so) rather than this server's keys.
  log.info(`mint a token with: ${tokenCommandFor(settings)}`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info(`${signal}: closing`);
    lethe.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
