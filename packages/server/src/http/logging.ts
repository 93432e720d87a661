import type { FastifyLoggerOptions, FastifyRequest, FastifyServerOptions } from 'fastify';

/** Fastify's logger options object (pino's options plus Fastify's). */
export type LoggerOptions = Exclude<NonNullable<FastifyServerOptions['logger']>, boolean>;

/**
 * Query parameters that carry credentials when a client puts a token in the URL by mistake.
 * Lethe never reads them, but the URL is logged, so their values are redacted.
 */
export const SECRET_QUERY_PARAMETERS = [
  'access_token',
  'token',
  'id_token',
  'refresh_token',
  'jwt',
  'api_key',
  'apikey',
  'authorization',
] as const;

export const REDACTED = '[REDACTED]';

const SECRET_QUERY = new RegExp(`([?&](?:${SECRET_QUERY_PARAMETERS.join('|')})=)[^&#\\s"\\\\]*`, 'gi');
/** A compact JWS: its header is base64url JSON, so it starts with `eyJ` (`{"`). */
const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER = /(bearer\s+)[^\s"\\]+/gi;

/** The URL with the values of credential-carrying query parameters replaced. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, `$1${REDACTED}`);
}

/**
 * The last line of defence, applied to every serialised log line: JWTs, `Bearer …` values and
 * credential query parameters are replaced wherever they appear (an error message or stack that
 * echoes a header, a URL, a field a future serializer adds).
 */
export function scrubSecrets(line: string): string {
  return redactUrl(line.replace(JWT, REDACTED).replace(BEARER, `$1${REDACTED}`));
}

export interface LogSettings {
  readonly level?: string;
  /** Where lines go; stdout when absent. Tests pass one that collects them. */
  readonly stream?: NonNullable<FastifyLoggerOptions['stream']>;
}

/**
 * The server's logger options, for `lethe serve` and the tests alike. Request lines carry
 * `reqId` (Fastify's child logger per request); tokens never reach the log: the headers that
 * carry them are redacted, the logged URL loses credential query parameters, and every line is
 * scrubbed of JWTs before it is written.
 */
export function loggerOptions(settings: LogSettings = {}): LoggerOptions {
  return {
    level: settings.level ?? 'info',
    ...(settings.stream ? { stream: settings.stream } : {}),
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'],
      censor: REDACTED,
    },
    serializers: {
      // Fastify's own request serializer (less `accept-version`, unused here), URL redacted.
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
    hooks: { streamWrite: scrubSecrets },
  };
}
