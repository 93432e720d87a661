import { streamKeyRotationFromEnv } from '../streams/field-key-service.js';
import { streamRetentionFromEnv } from '../streams/stream-retention-sweep.js';
import { eventIdWindowFromEnv } from '../retention/journal/event-id-window.js';
import type { Command } from 'commander';
import { loggerOptions } from '../http/logging.js';
import { rateLimitFromEnv } from '../http/rate-limit.js';
import { requestTimeoutFromEnv } from '../http/request-timeout.js';
import { externalIssuerFromEnv } from '../auth/external-issuer.js';
import { oidcSignInFromEnv } from '../session/oidc/oidc-sign-in-settings.js';
import { keyRotationFromEnv } from '../auth/signing-keys.js';
import { loadDemoCompany, DEMO_SUBJECT } from '../demo/demo-company.js';
import { createLethe } from '../server.js';
import { requestSettingsFromEnv } from '../requests/request-settings.js';
import { dataDirFlag, dataDirOption, UsageError, usageErrors } from './args.js';

export interface ServeOptions {
  port?: string;
  host?: string;
  dataDir?: string;
  demo?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the Lethe server (API, dashboard, background jobs)')
    .option('--port <port>', 'TCP port (default: PORT, else 7420)')
    .option('--host <host>', 'address to listen on (default: LETHE_HOST, else 127.0.0.1)')
    .addOption(dataDirFlag())
    .option('--demo', 'load the demo company into an empty store')
    .action((options: ServeOptions) => serveCommand(options));
}

export async function serveCommand(options: ServeOptions): Promise<void> {
  const port = Number(options.port ?? process.env['PORT'] ?? 7420);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port must be 0-65535, got ${options.port}`);
  const host = options.host ?? process.env['LETHE_HOST'] ?? '127.0.0.1';
  // LETHE_RATE_LIMIT (50/s, 3000/min, off) and LETHE_RATE_BURST; a bad value names its variable.
  const rateLimit = usageErrors(() => rateLimitFromEnv(process.env));
  // LETHE_REQUEST_TIMEOUT (60s): how long a client may take to send a whole request.
  const requestTimeoutMs = usageErrors(() => requestTimeoutFromEnv(process.env));
  // LETHE_KEY_ROTATION (24h) and LETHE_OIDC_* (an external issuer); a bad value names its variable.
  const keyRotationIntervalMs = usageErrors(() => keyRotationFromEnv(process.env));
  // LETHE_STREAM_KEY_ROTATION (24h): the period of privacy-stream field keys.
  const streamKeyRotationMs = usageErrors(() => streamKeyRotationFromEnv(process.env));
  // LETHE_STREAM_RETENTION (P30D): how long base-stream events are kept once exported.
  const streamRetention = usageErrors(() => streamRetentionFromEnv(process.env));
  // LETHE_EVENT_ID_WINDOW (P7D): how long event ids are remembered to recognise retries.
  const eventIdWindow = usageErrors(() => eventIdWindowFromEnv(process.env));
  const externalIssuer = usageErrors(() => externalIssuerFromEnv(process.env));
  // LETHE_OIDC_CLIENT_ID (+ _REDIRECT_URI, …): the dashboard's sign-in through the same provider.
  const oidcSignIn = usageErrors(() => oidcSignInFromEnv(process.env));
  // LETHE_REQUEST_VERIFICATION / _APPROVAL / _JURISDICTION, LETHE_PHONE_REGION.
  const requestSettings = usageErrors(() => requestSettingsFromEnv(process.env));
  const requestTickMs = process.env['LETHE_REQUEST_TICK_MS'];
  const lethe = await createLethe({
    dataDir: dataDirOption(options.dataDir),
    databaseUrl: process.env['DATABASE_URL'],
    // Tokens never reach the log: headers redacted, token query parameters and JWTs scrubbed.
    logger: loggerOptions({ level: process.env['LOG_LEVEL'] ?? 'info' }),
    rateLimit,
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    ...(keyRotationIntervalMs ? { keyRotationIntervalMs } : {}),
    ...(streamKeyRotationMs ? { streamKeyRotationMs } : {}),
    ...(streamRetention ? { streamRetention } : {}),
    eventIdWindow,
    ...(externalIssuer ? { externalIssuers: [externalIssuer] } : {}),
    ...(oidcSignIn ? { oidcSignIn } : {}),
    requestSettings,
    ...(requestTickMs !== undefined
      ? { requestTickMs: usageErrors(() => positiveInteger('LETHE_REQUEST_TICK_MS', requestTickMs)) }
      : {}),
    grpcInsecure: process.env['LETHE_GRPC_INSECURE'] === 'true',
  });
  const log = lethe.app.log;
  if (options.demo && (await loadDemoCompany(lethe.services))) {
    log.info(`loaded the demo company; try GET /v1/subjects/${DEMO_SUBJECT}`);
  }
  const address = await lethe.app.listen({ port, host });
  log.info(`Lethe is serving on ${address} (${lethe.services.store.capabilities.description})`);
  log.info('mint a token with: npx lethe token create --role admin --ttl 1h');

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

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, not "${text}".`);
  return value;
}
