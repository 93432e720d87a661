import { request, type Agent } from 'node:http';

export interface HttpResponse {
  readonly status: number;
  readonly body: Buffer;
}

export interface HttpRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  readonly agent?: Agent;
  /** A hung server must not hang the benchmark. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** One HTTP exchange over node:http with the whole answer buffered. */
export function send(options: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    if (options.body) headers['content-length'] = String(options.body.length);
    const outgoing = request(
      options.url,
      { method: options.method, headers, agent: options.agent },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    outgoing.setTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, () =>
      outgoing.destroy(new Error(`${options.method} ${options.url} timed out`)),
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/** Sends JSON and expects a 2xx JSON answer; anything else is an error naming the request. */
export async function sendJson<T>(
  method: HttpRequest['method'],
  url: string,
  token: string | undefined,
  body?: unknown,
): Promise<T> {
  const response = await send({
    method,
    url,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }),
  });
  if (response.status < 200 || response.status >= 300) {
    throw new Error(
      `${method} ${url} answered ${response.status}: ${response.body.toString('utf8').slice(0, 500)}`,
    );
  }
  // A 204 (a release) has no body.
  return (response.body.length === 0 ? undefined : JSON.parse(response.body.toString('utf8'))) as T;
}
