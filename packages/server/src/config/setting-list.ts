import { JURISDICTIONS } from '@lethe/api';
import type { SettingType } from './setting-types.js';

/**
 * One setting: its environment variable (the name it has always had), the key that sets it in
 * `lethe.yaml` (the variable's name without `LETHE_`, in lower case), the command-line flag if
 * there is one, its type and default, what it does and which feature (docs page) it belongs to.
 * `docs/configuration.md` is generated from this list (`npm run docs:config`).
 */
export interface SettingDefinition {
  readonly env: string;
  readonly type: SettingType;
  /** The value used when no source sets it, as written; undefined: unset (the feature is off). */
  readonly default?: string;
  /** What the default means when it is not a value (`none: SQLite in the data directory`). */
  readonly defaultNote?: string;
  readonly description: string;
  /** The docs page of the feature, under docs/. */
  readonly feature: string;
  readonly flag?: string;
  /**
   * Secrets and the file's own location are not read from the file: a key or token written into
   * a configuration file ends up in version control and backups.
   */
  readonly notInFile?: boolean;
  /**
   * Never printed, also not when refused: a connection URL carries a password, a key is a key.
   * An error names the setting and where it came from, and for a URL only its scheme.
   */
  readonly secret?: boolean;
  /** Commands that read it besides `serve` (every command opening a store, or the client ones). */
  readonly readBy: 'serve' | 'store commands' | 'client commands' | 'every command';
}

const NATS_NAME = {
  kind: 'pattern',
  pattern: /^[A-Za-z0-9_-]+$/,
  form: 'a NATS name (letters, digits, `-`, `_`)',
} as const;
const SUBJECT_PREFIX = {
  kind: 'pattern',
  pattern: /^[A-Za-z0-9_.-]+$/,
  form: 'a NATS subject prefix like `a.b`',
} as const;
const CLAIM = { kind: 'pattern', pattern: /^[A-Za-z0-9_.:/-]+$/, form: 'a claim name' } as const;
const SECONDS = {
  kind: 'pattern',
  pattern: /^(?!0+(\.0*)?$)\d+(\.\d+)?$/,
  form: 'a positive number of seconds',
} as const;
const STEP = { kind: 'choice', choices: ['required', 'none'] } as const;

export const SETTINGS: readonly SettingDefinition[] = [
  {
    env: 'LETHE_CONFIG',
    flag: '--config',
    type: { kind: 'path' },
    defaultNote: 'none: no file is read',
    description:
      'The YAML configuration file to read. Only a file named here (or by `--config`) is read; ' +
      'a `lethe.yaml` in the working directory is not picked up by itself.',
    feature: 'configuration.md',
    notInFile: true,
    readBy: 'every command',
  },
  {
    env: 'PORT',
    flag: '--port',
    type: { kind: 'integer', min: 0, max: 65_535 },
    default: '7420',
    description: 'TCP port the API and the dashboard listen on (0: any free port).',
    feature: 'architecture.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_HOST',
    flag: '--host',
    type: { kind: 'string' },
    default: '127.0.0.1',
    description: 'Address to listen on; `0.0.0.0` to listen on every interface.',
    feature: 'architecture.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_DATA_DIR',
    flag: '--data-dir',
    type: { kind: 'path' },
    default: './lethe-data',
    description:
      'The data directory: the SQLite database and `master.key` (with PostgreSQL, still `master.key` ' +
      'and file exports). Only `lethe serve` creates it; every other command refuses a missing one.',
    feature: 'architecture.md',
    readBy: 'store commands',
  },
  {
    env: 'DATABASE_URL',
    secret: true,
    type: { kind: 'url', protocols: ['postgres', 'postgresql'] },
    defaultNote: 'none: SQLite in the data directory',
    description: 'PostgreSQL instead of the embedded SQLite, like `postgres://user@host/db`.',
    feature: 'architecture.md',
    readBy: 'store commands',
  },
  {
    env: 'LOG_LEVEL',
    type: { kind: 'choice', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    default: 'info',
    description: 'Least severe log level written.',
    feature: 'observability.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_LOG_FORMAT',
    type: { kind: 'choice', choices: ['json', 'pretty'] },
    defaultNote: 'pretty on a terminal, json otherwise',
    description: 'Log lines as JSON (ISO times, level names) or pino-pretty text.',
    feature: 'observability.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_MASTER_KEY',
    secret: true,
    type: { kind: 'string' },
    defaultNote: 'none: `master.key` in the data directory',
    description: 'The master key (base64, 32 bytes) that wraps signing keys and secrets in the store.',
    feature: 'security.md',
    notInFile: true,
    readBy: 'store commands',
  },
  {
    env: 'LETHE_MASTER_KEY_FILE',
    type: { kind: 'path' },
    defaultNote: 'none: `master.key` in the data directory',
    description: 'A file holding the master key (a mounted secret); not with `LETHE_MASTER_KEY`.',
    feature: 'security.md',
    readBy: 'store commands',
  },
  {
    env: 'LETHE_URL',
    type: { kind: 'url', protocols: ['http', 'https'] },
    default: 'http://127.0.0.1:7420',
    description: "The server's address, for the client commands and for `token create --link`.",
    feature: 'api.md',
    readBy: 'client commands',
  },
  {
    env: 'LETHE_TOKEN',
    secret: true,
    type: { kind: 'string' },
    defaultNote: 'none: client commands refuse to run',
    description: 'The token the client commands send (from `lethe token create`).',
    feature: 'security.md',
    notInFile: true,
    readBy: 'client commands',
  },
  {
    env: 'LETHE_RATE_LIMIT',
    type: { kind: 'rate', example: '`50/s` or `3000/min`', off: true },
    default: '50/s',
    description: 'Requests per second per principal on `/v1`; `off` turns every limit off.',
    feature: 'api.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_RATE_BURST',
    type: { kind: 'integer', min: 1 },
    default: '200',
    description: 'Requests a principal may send at once before the rate applies.',
    feature: 'api.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_EVENT_RATE_LIMIT',
    type: { kind: 'rate', example: '`200000/s`', off: false },
    default: '200000/s',
    description: 'Events per second per principal on the telemetry routes.',
    feature: 'telemetry.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_EVENT_RATE_BURST',
    type: { kind: 'integer', min: 1 },
    default: '400000',
    description: 'Events a principal may send at once on the telemetry routes.',
    feature: 'telemetry.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_REQUEST_TIMEOUT',
    type: { kind: 'short-duration' },
    default: '60s',
    description: 'How long a client may take to send a whole request (at least `1s`).',
    feature: 'api.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_KEY_ROTATION',
    type: { kind: 'short-duration' },
    default: '24h',
    description: "Age at which Lethe's token signing key is replaced (at least `1m`).",
    feature: 'security.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_ISSUER',
    type: { kind: 'url', protocols: ['http', 'https'] },
    defaultNote: 'none: only Lethe tokens',
    description: 'An external OIDC issuer whose tokens are accepted (the `iss` claim).',
    feature: 'security.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_JWKS_URL',
    type: { kind: 'url', protocols: ['https', 'http'] },
    description:
      "The issuer's key set; `https://` (http only for localhost). With it the API accepts the issuer's tokens; without it only the dashboard's sign-in uses the issuer.",
    feature: 'security.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_AUDIENCE',
    type: { kind: 'string' },
    default: 'lethe-api',
    description: 'The `aud` the external tokens must carry.',
    feature: 'security.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_ROLE_CLAIM',
    type: CLAIM,
    default: 'lethe_role',
    description: 'The claim naming the Lethe role.',
    feature: 'security.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_ROLE_MAP',
    type: { kind: 'pattern', pattern: /^[^=,]+=[a-z]+(,[^=,]+=[a-z]+)*$/, form: '`group=role,…`' },
    description: "Maps the role claim's values (groups) to Lethe roles, like `privacy-office=dpo`.",
    feature: 'security.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_SYSTEM_CLAIM',
    type: CLAIM,
    default: 'lethe_system',
    description: 'The claim naming the system of a service token.',
    feature: 'security.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_CATEGORIES_CLAIM',
    type: CLAIM,
    default: 'lethe_categories',
    description: 'The claim limiting the token to data categories.',
    feature: 'security.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_GRANTS_CLAIM',
    type: CLAIM,
    default: 'lethe_grants',
    description: 'The claim carrying extra grants.',
    feature: 'security.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_CLIENT_ID',
    type: { kind: 'string' },
    defaultNote: 'none: no sign-in through the provider',
    description:
      'The dashboard\'s client id at the issuer: turns on "Sign in with <provider>" (code flow with PKCE).',
    feature: 'dashboard.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_CLIENT_SECRET',
    secret: true,
    type: { kind: 'string' },
    defaultNote: 'none: a public client',
    description: 'The client secret of a confidential client, sent to the token endpoint.',
    feature: 'dashboard.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_REDIRECT_URI',
    type: { kind: 'url', protocols: ['https', 'http'] },
    description: "The dashboard's `/sign-in/callback` as browsers reach it. Required with the client id.",
    feature: 'dashboard.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_SCOPES',
    type: { kind: 'string' },
    default: 'openid',
    description: 'Space-separated scopes asked for at sign-in; must include `openid`.',
    feature: 'dashboard.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_OIDC_PROVIDER_NAME',
    type: { kind: 'string' },
    defaultNote: "the issuer's host",
    description: 'The name on the sign-in button.',
    feature: 'dashboard.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_EVENT_ID_WINDOW',
    type: { kind: 'iso-duration' },
    default: 'P7D',
    description: 'How long event ids are remembered to recognise a retried event.',
    feature: 'telemetry.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_STREAM_KEY_ROTATION',
    type: { kind: 'short-duration' },
    default: '24h',
    description: 'Period of the keys that encrypt privacy-stream fields (at least `1m`).',
    feature: 'privacy-streams.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_STREAM_RETENTION',
    type: { kind: 'iso-duration' },
    defaultNote: 'none: kept for ever',
    description: 'How long base-stream events are kept once every export has passed them.',
    feature: 'privacy-streams.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_EXPORT_DIR',
    type: { kind: 'path' },
    defaultNote: '`<data dir>/exports`',
    description: 'Where file exports are written; shared storage when several nodes run.',
    feature: 'stream-exports.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_REQUEST_VERIFICATION',
    type: STEP,
    default: 'none',
    description: "Whether a rights request waits for the subject's identity to be verified.",
    feature: 'rights-requests.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_REQUEST_APPROVAL',
    type: STEP,
    default: 'none',
    description: 'Whether a rights request waits for a DPO’s approval.',
    feature: 'rights-requests.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_REQUEST_JURISDICTION',
    type: { kind: 'choice', choices: JURISDICTIONS },
    default: 'gdpr',
    description: 'The jurisdiction whose deadlines apply to a request that names none.',
    feature: 'rights-requests.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_PHONE_REGION',
    type: { kind: 'pattern', pattern: /^[A-Z]{2}$/, form: 'an ISO 3166-1 alpha-2 code like `GB`' },
    description: 'The region national phone numbers in requests are read in.',
    feature: 'rights-requests.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_ERASURE_APPROVAL_ROWS',
    type: { kind: 'pattern', pattern: /^(\d{1,9}|off)$/, form: 'a whole number of rows, or `off`' },
    default: '1000',
    description: 'An erasure that would delete more rows than this from one table waits for approval.',
    feature: 'rights-requests.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_REQUEST_TICK_MS',
    type: { kind: 'integer', min: 1 },
    default: '1000',
    description: 'How often (milliseconds) due rights-request tasks are looked for.',
    feature: 'rights-requests.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_GRPC_INSECURE',
    type: { kind: 'boolean' },
    default: 'false',
    description: 'gRPC rights clients without TLS (for a local test setup only).',
    feature: 'rights-requests.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_WEBHOOK_ALLOW_HTTP',
    type: { kind: 'boolean' },
    default: 'false',
    description: 'Webhook receivers may be plain http on any host, not only loopback (a test setup only).',
    feature: 'webhooks.md',
    readBy: 'serve',
  },
  {
    env: 'NATS_URL',
    secret: true,
    type: { kind: 'url', protocols: ['nats', 'tls', 'ws', 'wss'] },
    defaultNote: 'none: NATS is off',
    description: 'NATS JetStream for stream ingest, usage telemetry and real-time exports.',
    feature: 'privacy-streams.md',
    readBy: 'serve',
  },
  nats(
    'LETHE_NATS_STREAM',
    NATS_NAME,
    'LETHE_EVENTS',
    'The stream services publish privacy-stream events to.',
  ),
  nats('LETHE_NATS_SUBJECTS', { kind: 'list' }, 'lethe.events.>', "That stream's subjects."),
  nats(
    'LETHE_NATS_CONSUMER',
    NATS_NAME,
    'lethe-stream-ingest',
    'The durable ingest consumer every node shares.',
  ),
  nats(
    'LETHE_NATS_REJECTED_STREAM',
    NATS_NAME,
    'LETHE_REJECTED',
    'Dead letters: refused events, kept a week.',
  ),
  nats('LETHE_NATS_REJECTED_PREFIX', SUBJECT_PREFIX, 'lethe.rejected', 'Subject prefix of refused events.'),
  nats('LETHE_NATS_USAGE_STREAM', NATS_NAME, 'LETHE_USAGE', 'The stream of usage telemetry.', 'telemetry.md'),
  nats(
    'LETHE_NATS_USAGE_SUBJECTS',
    { kind: 'list' },
    'lethe.usage.>',
    "That stream's subjects.",
    'telemetry.md',
  ),
  nats('LETHE_NATS_USAGE_CONSUMER', NATS_NAME, 'lethe-usage-ingest', 'Its durable consumer.', 'telemetry.md'),
  nats(
    'LETHE_NATS_USAGE_REJECTED_PREFIX',
    SUBJECT_PREFIX,
    'lethe.usage-rejected',
    'Subject prefix of refused usage events.',
    'telemetry.md',
  ),
  nats(
    'LETHE_NATS_EXPORT_STREAM',
    NATS_NAME,
    'LETHE_EXPORTS',
    'The stream NATS exports publish to.',
    'stream-exports.md',
  ),
  nats(
    'LETHE_NATS_EXPORT_SUBJECTS',
    { kind: 'list' },
    'lethe.exports.>',
    "That stream's subjects.",
    'stream-exports.md',
  ),
  nats(
    'LETHE_NATS_DUPLICATE_WINDOW_SECONDS',
    SECONDS,
    '600',
    'How long JetStream remembers a `Nats-Msg-Id` to drop duplicates.',
  ),
  nats(
    'LETHE_NATS_ACK_WAIT_SECONDS',
    SECONDS,
    '30',
    'How long an unacknowledged ingest message waits before it is delivered again.',
  ),
];

function nats(
  env: string,
  type: SettingType,
  defaultValue: string,
  description: string,
  feature = 'privacy-streams.md',
): SettingDefinition {
  return {
    env,
    type,
    default: defaultValue,
    description: `${description} (with \`NATS_URL\`)`,
    feature,
    readBy: 'serve',
  };
}

/** The key that sets `env` in `lethe.yaml`: `LETHE_DATA_DIR` → `data_dir`, `PORT` → `port`. */
export function fileKey(env: string): string {
  return env.replace(/^LETHE_/, '').toLowerCase();
}

export function settingByEnv(env: string): SettingDefinition | undefined {
  return SETTINGS.find((setting) => setting.env === env);
}
