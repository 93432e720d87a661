import { readLimitedText } from '../../lib/read-limited-text.js';
import { randomUUID } from 'node:crypto';
import type { CallTokens } from '../../auth/call-tokens.js';
import type { Principal } from '../../auth/principal.js';

export type CallOutMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface CallOutRequest {
  readonly url: string | URL;
  /** The callee's audience; the call token is valid for it alone. */
  readonly audience: string;
  /** Who the call is made for; the callee sees them in the token's `act` claim. */
  readonly actor: Principal;
  readonly method: CallOutMethod;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** For the whole exchange, the answer's body included. */
  readonly timeoutMs: number;
  /** Sent as `x-request-id` and in the token's `request_id`; a fresh UUID when absent. */
  readonly requestId?: string;
}

export interface CallOutResponse {
  readonly status: number;
  /** The answer parsed as JSON; its text when it is not JSON; undefined when empty. */
  readonly body: unknown;
  /** The request id that was sent. */
  readonly requestId: string;
  /** The call token's `jti`, for logs. */
  readonly tokenId: string;
}

export type CallOutFailure = 'timeout' | 'network' | 'response-too-large';

/** The call got no complete answer. Its message never contains the token. */
export class CallOutError extends Error {
  override readonly name = 'CallOutError';

  constructor(
    readonly reason: CallOutFailure,
    message: string,
    readonly requestId: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface CallOutOptions {
  /** Defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  /** Larger answers fail the call with `response-too-large`. Default 1 MiB. */
  readonly maxResponseBytes?: number;
}

/**
 * Lethe's outgoing HTTP calls (rights clients, webhooks). Every call carries its own call token:
 * audience = the callee, a few minutes of life, the original actor in `act`. Any status is
 * returned to the caller, who decides what it means; redirects are not followed, so the token is
 * never sent anywhere but the configured URL. Nothing is logged here.
 */
export class CallOut {
  private readonly fetch: typeof fetch;
  private readonly maxResponseBytes: number;

  constructor(
    private readonly tokens: CallTokens,
    options: CallOutOptions = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  }

  async call(request: CallOutRequest): Promise<CallOutResponse> {
    const requestId = request.requestId ?? randomUUID();
    // A fresh token per call, minted just before sending: it cannot be reused for another callee.
    const { token, tokenId } = await this.tokens.mint({
      audience: request.audience,
      actor: request.actor,
      requestId,
    });
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'x-request-id': requestId,
      accept: 'application/json',
    };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    const signal = AbortSignal.timeout(request.timeoutMs);
    const target = String(request.url);
    try {
      const response = await this.fetch(request.url, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        redirect: 'manual',
        signal,
      });
      const text = await readLimitedText(response, this.maxResponseBytes);
      if (text === undefined) {
        throw new CallOutError(
          'response-too-large',
          `The answer is larger than ${this.maxResponseBytes} bytes.`,
          requestId,
        );
      }
      return { status: response.status, body: parseBody(text), requestId, tokenId };
    } catch (cause) {
      if (cause instanceof CallOutError) throw cause;
      if (signal.aborted) {
        throw new CallOutError(
          'timeout',
          `${request.method} ${target} got no answer within ${request.timeoutMs} ms.`,
          requestId,
          { cause },
        );
      }
      throw new CallOutError(
        'network',
        `${request.method} ${target} failed: ${describe(cause)}.`,
        requestId,
        {
          cause,
        },
      );
    }
  }
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The transport error's own words (undici puts them in `cause`); never request headers. */
function describe(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
