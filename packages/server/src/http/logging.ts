import {
  LogController,
  type FastifyBaseLogger,
  type FastifyLoggerOptions,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { pino, type LoggerOptions as PinoOptions } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import { isTelemetryRoute } from './telemetry-route.js';

/** Fastify's logger options object (pino's options plus Fastify's). */
export type LoggerOptions = Exclude<NonNullable<FastifyServerOptions['logger']>, boolean>;

/** What `LetheOptions.logger` takes: off, on, pino/Fastify logger options, or a logger. */
export type LoggerSetting = FastifyServerOptions['logger'] | FastifyBaseLogger;

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

/** `json`: one JSON object a line (for collectors); `pretty`: pino-pretty's coloured lines. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * `LETHE_LOG_FORMAT` (`json` or `pretty`); unset, pretty on a terminal and JSON otherwise (a
 * container, a pipe, a log collector). Throws a message naming the variable for another value.
 */
export function logFormatFromEnv(env: NodeJS.ProcessEnv, isTerminal: boolean): LogFormat {
  const value = env['LETHE_LOG_FORMAT'];
  if (value === undefined || value === '') return isTerminal ? 'pretty' : 'json';
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  throw new Error(`LETHE_LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}, not "${value}".`);
}

/**
 * The stream that turns JSON lines into pino-pretty's readable ones on stdout. Imported only when
 * asked for: JSON logging never loads it.
 */
export async function prettyLogStream(
  options: PrettyOptions = {},
): Promise<NonNullable<FastifyLoggerOptions['stream']>> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', ...options });
}

export interface LogSettings {
  readonly level?: string;
  /**
   * `json` (default) writes ISO-8601 times (`"time":"2026-…Z"`) and level names
   * (`"level":"info"`); `pretty` keeps pino's numbers for pino-pretty to read (pass its stream).
   */
  readonly format?: LogFormat;
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
    ...(settings.format === 'pretty'
      ? {}
      : {
          timestamp: pino.stdTimeFunctions.isoTime,
          formatters: { level: (label: string) => ({ level: label }) },
        }),
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

/** Whether the setting is a logger already rather than options for one. */
export function isLoggerInstance(setting: LoggerSetting | undefined): setting is FastifyBaseLogger {
  return typeof setting === 'object' && typeof (setting as Partial<FastifyBaseLogger>).child === 'function';
}

/**
 * The server's one logger, made from its setting the way Fastify reads its `logger` option: off
 * (`false`, absent) is silent, `true` or options make a pino logger (level `info` unless given,
 * `stream` or `file` as destination), a logger is used as it is. Fastify adds its request and reply
 * serializers to its own child of it.
 */
export function createLogger(setting: LoggerSetting | undefined): FastifyBaseLogger {
  if (!setting) return pino({ level: 'silent' });
  if (isLoggerInstance(setting)) return setting;
  const { stream, file, genReqId: _genReqId, ...options } = setting === true ? {} : setting;
  // `||` as Fastify does: an empty level (LOG_LEVEL=) means the default.
  const pinoOptions = { ...options, level: options.level || 'info' } as PinoOptions;
  return stream
    ? pino(pinoOptions, stream)
    : file
      ? pino(pinoOptions, pino.destination(file))
      : pino(pinoOptions);
}

/**
 * Fastify's per-request lines, at `debug` for the telemetry routes: one `info` line per request
 * cost a third of ingest throughput. Their failures stay visible: a 5xx keeps Fastify's lines and
 * `handleError` logs it at `error` with its `reqId`, and every answer, 4xx included, is counted by route and
 * status in `lethe_http_request_duration_seconds`. Every other route keeps Fastify's lines.
 */
export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>) {
    if (isTelemetryRoute(request)) request.log.debug({ req: request }, 'incoming request');
    else super.incomingRequest(request, reply, metadata);
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ) {
    if (!error && reply.statusCode < 500 && isTelemetryRoute(request)) {
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    } else super.requestCompleted(error, request, reply, metadata);
  }
}
