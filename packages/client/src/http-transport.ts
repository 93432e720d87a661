import { LetheApiError } from './api-error.js';
import type { LetheClientOptions } from './client-base.js';
import { Deadline } from './deadline.js';

export const NDJSON = 'application/x-ndjson';

type Method = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface Call {
  method: Method;
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  /** Sent as is with this content type instead of JSON (CSV imports). */
  text?: { body: string; contentType: string };
  accept?: string;
  signal?: AbortSignal;
}

/**
 * How `LetheClient` talks to the server: bearer token, JSON or NDJSON answers, a deadline on every
 * call, and every failure as a {@link LetheApiError}.
 */
export class HttpTransport {
  private readonly baseUrl: string;
  private readonly token: LetheClientOptions['token'];
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: LetheClientOptions) {
    // Parsing here makes a malformed URL fail at construction, not at the first call.
    this.baseUrl = new URL(options.url).href.replace(/\/+$/, '');
    this.token = options.token;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Sends a call and parses its JSON answer; the timeout covers reading the body too. */
  async json<T>(call: Call): Promise<T> {
    const deadline = new Deadline(this.timeoutMs, call.signal);
    try {
      const response = await this.exchange(call, deadline);
      let text: string;
      try {
        text = await response.text();
      } catch (cause) {
        throw networkError(deadline, cause);
      }
      // Some answers (a retirement, say) may legitimately carry no body.
      return (text === '' ? undefined : parseJson(text, response.status)) as T;
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Sends a call and yields its NDJSON answer line by line as the lines arrive, so memory stays
   * flat however long the answer is. Leaving the loop early cancels the response.
   */
  async *ndjson<T>(call: Call): AsyncGenerator<T, void> {
    const deadline = new Deadline(this.timeoutMs, call.signal);
    try {
      const response = await this.exchange(call, deadline);
      if (response.body === null) return;
      for await (const line of ndjsonLines(response.body, deadline)) {
        yield parseJson(line, response.status) as T;
      }
    } finally {
      deadline.dispose();
    }
  }

  /** Sends a call and returns the 2xx response with its body unread; the deadline stays armed. */
  private async exchange(call: Call, deadline: Deadline): Promise<Response> {
    const token = typeof this.token === 'string' ? this.token : await this.token();
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: call.accept ?? 'application/json',
    };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (call.text !== undefined) headers['content-type'] = call.text.contentType;
    const query = call.query?.toString();
    const url = `${this.baseUrl}${call.path}${query ? `?${query}` : ''}`;
    deadline.arm();
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: call.method,
        headers,
        body: call.text?.body ?? (call.body === undefined ? undefined : JSON.stringify(call.body)),
        signal: deadline.signal,
      });
    } catch (cause) {
      throw networkError(deadline, cause);
    }
    if (!response.ok) throw await LetheApiError.fromResponse(response);
    return response;
  }
}

/**
 * Encodes one path segment. "." and ".." cannot be sent at all: URL parsers resolve them as dot
 * segments (percent-encoded too), so the request would reach a different route.
 */
export function segment(value: string): string {
  if (value === '' || value === '.' || value === '..') {
    throw new RangeError(`"${value}" cannot be used as a path segment`);
  }
  return encodeURIComponent(value);
}

export function searchParams(query: object): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value));
  }
  return params;
}

function parseJson(text: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new LetheApiError({
      status,
      code: 'UNEXPECTED_RESPONSE',
      message: `The server answered ${status} with a body that is not valid JSON.`,
      details: text.slice(0, 200),
      cause,
    });
  }
}

function networkError(deadline: Deadline, cause: unknown): LetheApiError {
  const reason = deadline.reason;
  const message =
    reason === 'timeout'
      ? 'The request timed out.'
      : reason === 'aborted'
        ? 'The request was aborted.'
        : `The request failed: ${describe(cause)}`;
  return new LetheApiError({ status: 0, code: 'NETWORK_ERROR', message, cause });
}

/** undici reports "fetch failed" and hides the useful part (ECONNREFUSED, ...) in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${inner}`;
}

/**
 * Splits a byte stream into lines as chunks arrive. A chunk may end inside a line or inside a
 * multi-byte character; the decoder and the `pending` tail carry both over to the next chunk.
 */
async function* ndjsonLines(body: ReadableStream<Uint8Array>, deadline: Deadline): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for (;;) {
      deadline.arm();
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (cause) {
        throw networkError(deadline, cause);
      } finally {
        // The consumer's own work between items must not count against the server.
        deadline.disarm();
      }
      if (chunk.done) break;
      pending += decoder.decode(chunk.value, { stream: true });
      let start = 0;
      for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n', start)) {
        const line = pending.slice(start, end).trim();
        start = end + 1;
        if (line !== '') yield line;
      }
      pending = pending.slice(start);
    }
    const last = (pending + decoder.decode()).trim();
    if (last !== '') yield last;
  } finally {
    // Runs when the consumer stops early too: cancelling releases the connection.
    reader.cancel().catch(() => undefined);
  }
}
