import type { ErrorCode } from '@lethe/api';

/**
 * Every code a {@link LetheApiError} can carry: the server's registry, plus two the SDK assigns
 * itself because no server answer exists to take a code from.
 * - `NETWORK_ERROR`: the request failed in transport (refused, reset, timed out, aborted); status 0.
 * - `UNEXPECTED_RESPONSE`: an answer that is not Lethe's `{"error": {...}}` body (a proxy's HTML
 *   502, a 429 from a rate limiter) or a success body that is not valid JSON.
 */
export type LetheErrorCode = ErrorCode | 'NETWORK_ERROR' | 'UNEXPECTED_RESPONSE';

export interface LetheApiErrorInit {
  status: number;
  code: LetheErrorCode;
  message: string;
  requestId?: string;
  details?: unknown;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * The one error type the client throws for a failed call: a non-2xx answer carries the server's
 * status and code, a transport failure has status 0 and code `NETWORK_ERROR`.
 *
 * @example
 * try {
 *   await client.getPolicy('marketing-email');
 * } catch (error) {
 *   if (error instanceof LetheApiError && error.code === 'POLICY_NOT_FOUND') return undefined;
 *   throw error;
 * }
 */
export class LetheApiError extends Error {
  override readonly name = 'LetheApiError';
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  /**
   * Codes are only ever added to the registry, so a newer server may send one this SDK does not
   * list yet; it is passed through as sent rather than hidden behind a generic code.
   */
  readonly code: LetheErrorCode;
  /** Identifies the request in the server log. */
  readonly requestId: string | undefined;
  readonly details: unknown;
  /** From a `Retry-After` header, when the server asked the client to wait. */
  readonly retryAfterMs: number | undefined;

  constructor(init: LetheApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.details = init.details;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** Whether sending the same request again may succeed: transport failures, 429 and 5xx. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }

  /** Builds the error from a status and a parsed (or unparsable) error body. */
  static fromBody(status: number, body: unknown, headers?: Headers): LetheApiError {
    const retryAfterMs = parseRetryAfter(headers?.get('retry-after') ?? null);
    const headerRequestId = headers?.get('x-request-id') ?? headers?.get('request-id') ?? undefined;
    const error = isErrorBody(body) ? body.error : undefined;
    if (error === undefined) {
      return new LetheApiError({
        status,
        code: 'UNEXPECTED_RESPONSE',
        message: `The server answered ${status} without a Lethe error body.`,
        requestId: headerRequestId,
        details: body,
        retryAfterMs,
      });
    }
    return new LetheApiError({
      status,
      code: error.code as LetheErrorCode,
      message: error.message,
      requestId: error.requestId ?? headerRequestId,
      details: error.details,
      retryAfterMs,
    });
  }

  /** Reads a non-2xx response's body and builds the error from it. */
  static async fromResponse(response: Response): Promise<LetheApiError> {
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      // The status line arrived but the body did not: still report the server's status.
      return new LetheApiError({
        status: response.status,
        code: 'NETWORK_ERROR',
        message: `The server answered ${response.status} but the body could not be read.`,
        cause,
      });
    }
    return LetheApiError.fromBody(response.status, parseJsonOrText(text), response.headers);
  }
}

interface WireError {
  error: { code: string; message: string; requestId?: string; details?: unknown };
}

function isErrorBody(body: unknown): body is WireError {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = body.error;
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    'message' in error &&
    typeof error.message === 'string' &&
    (!('requestId' in error) || error.requestId === undefined || typeof error.requestId === 'string')
  );
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
