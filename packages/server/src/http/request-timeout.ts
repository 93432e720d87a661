import type { FastifyServerOptions } from 'fastify';
import type { ServerOptions } from 'node:http';
import { parseDuration } from '../auth/token-rules.js';

/**
 * How long a client may take to send a whole request, headers and body. Long enough for the
 * largest body (16 MiB of telemetry) over a slow link; short enough that a client which stops
 * half way does not hold a connection for minutes.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

const MIN_REQUEST_TIMEOUT_MS = 1_000;

/** `LETHE_REQUEST_TIMEOUT` (`30s`, `2m`) in milliseconds; undefined when unset. */
export function requestTimeoutFromEnv(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const text = env['LETHE_REQUEST_TIMEOUT']?.trim();
  if (text === undefined || text === '') return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms < MIN_REQUEST_TIMEOUT_MS) {
    throw new RangeError(
      `LETHE_REQUEST_TIMEOUT must be a duration of at least 1s like 30s or 2m, got "${text}"`,
    );
  }
  return ms;
}

/**
 * The Fastify options that put a deadline on receiving a request. Node's `requestTimeout` runs
 * from a request's first byte until its body is in (or its answer is sent), so it never cuts a
 * long answer: the NDJSON expiry feed, a slow handler. Fastify sets it to 0 (none) unless told.
 * Node (20) holds a half-sent body to the longer of `headersTimeout` (60 s unless set) and
 * `requestTimeout`, so the headers get the same deadline, at most 60 s, as Node's own constructor
 * would give them. Node looks for expired requests every 30 s by default; looking every second
 * (or at the deadline, if shorter) keeps the `408` close to it. `clientErrorHandler` writes it.
 */
export function requestDeadline(timeoutMs: number): Pick<FastifyServerOptions, 'requestTimeout'> & {
  http: ServerOptions;
} {
  return {
    requestTimeout: timeoutMs,
    http: {
      headersTimeout: Math.min(60_000, timeoutMs),
      connectionsCheckingInterval: Math.min(1_000, timeoutMs),
    },
  };
}
