import { readLimitedText } from '../../lib/read-limited-text.js';
/**
 * The one HTTP GET discovery makes, for both the Prometheus API and scrape targets: bounded in
 * time (headers and body alike) and in size, with credentials in the URL sent as Basic auth and
 * never repeated in messages. Every failure is a `FetchTextError` whose message reads as a reason
 * (`no answer within 10000 ms`); callers add which source it was.
 */

export const DEFAULT_DISCOVERY_TIMEOUT_MS = 10_000;
export const DEFAULT_DISCOVERY_MAX_BYTES = 16 * 1024 * 1024;

export interface FetchTextOptions {
  readonly accept: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly fetch: typeof fetch;
}

export interface FetchedText {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly text: string;
}

export class FetchTextError extends Error {
  override readonly name = 'FetchTextError';
}

/** The URL as it may appear in messages and logs: without user name and password. */
export function displayUrl(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

/** Fetches `url` and reads its body as UTF-8; any status is returned, the caller decides. */
export async function fetchText(url: URL, options: FetchTextOptions): Promise<FetchedText> {
  const headers: Record<string, string> = { accept: options.accept };
  let target = url;
  // fetch refuses URLs with credentials; send them the way Prometheus' own scraper would.
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers['authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    target = new URL(displayUrl(url));
  }
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await options.fetch(target, { headers, signal });
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > options.maxBytes) {
      await response.body?.cancel();
      throw new FetchTextError(`the answer is ${declared} bytes, more than the limit of ${options.maxBytes}`);
    }
    const text = await readLimitedText(response, options.maxBytes);
    if (text === undefined) {
      throw new FetchTextError(`the answer is larger than the limit of ${options.maxBytes} bytes`);
    }
    return { status: response.status, contentType: response.headers.get('content-type') ?? undefined, text };
  } catch (cause) {
    if (cause instanceof FetchTextError) throw cause;
    if (signal.aborted) {
      throw new FetchTextError(`no complete answer within ${options.timeoutMs} ms`, { cause });
    }
    throw new FetchTextError(describe(cause), { cause });
  }
}

/** The transport error's own words (undici puts them in `cause`). */
function describe(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
