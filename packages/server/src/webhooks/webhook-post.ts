import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { WebhookAddresses } from './webhook-address.js';
import type { ResolveHost } from './webhook-settings.js';

/** Every address of a host name, as the system resolver gives them. */
export const resolveWithDns: ResolveHost = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** The receiver's host resolves to an address Lethe may not send to. */
export class AddressNotAllowed extends Error {
  readonly code = 'WEBHOOK_ADDRESS_NOT_ALLOWED';
  constructor() {
    super('address not allowed');
  }
}

export interface WebhookPost {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly timeoutMs: number;
}

/**
 * One POST to a receiver, pinned to the addresses that were checked: the host name is resolved
 * once, every address it gives must be allowed (one private address among public ones refuses the
 * host), and the connection may only go to those addresses — the socket's own lookup answers with
 * them, so a DNS answer that changes between the check and the connection (rebinding) is never
 * used. TLS still names the host (SNI, certificate check) and the Host header is the URL's. Redirects
 * are not followed and the connection is not kept. Returns the status; throws `AddressNotAllowed`,
 * a network or TLS error, or the timeout's abort (the timeout covers resolving too).
 */
export async function postToReceiver(
  post: WebhookPost,
  addresses: WebhookAddresses,
  resolve: ResolveHost,
): Promise<number> {
  const url = new URL(post.url);
  const signal = AbortSignal.timeout(post.timeoutMs);
  const literal = WebhookAddresses.literal(url.hostname);
  const vetted =
    literal !== undefined
      ? [{ address: literal, family: isIP(literal) }]
      : await untilAborted(resolve(url.hostname), signal);
  if (vetted.length === 0 || vetted.some((candidate) => !addresses.allows(candidate.address))) {
    throw new AddressNotAllowed();
  }
  const agent = new Agent({
    connect: { lookup: pinnedLookup(vetted), timeout: post.timeoutMs },
    headersTimeout: post.timeoutMs,
    bodyTimeout: post.timeoutMs,
  });
  try {
    const response = await request(url, {
      method: 'POST',
      headers: post.headers,
      body: post.body,
      dispatcher: agent,
      signal,
    });
    // The answer's body is not kept: only its status says whether the event arrived.
    await response.body.dump();
    return response.statusCode;
  } finally {
    await agent.destroy();
  }
}

/** A socket lookup that answers with the checked addresses only, whatever DNS says by now. */
function pinnedLookup(vetted: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const fitting = family ? vetted.filter((candidate) => candidate.family === family) : [...vetted];
    const first = fitting[0];
    if (!first) {
      callback(new AddressNotAllowed(), '', 0);
      return;
    }
    if (options.all) callback(null, fitting);
    else callback(null, first.address, first.family);
  };
}

/** `promise`, or the signal's reason once it aborts (a resolver cannot be cancelled, only left). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}
