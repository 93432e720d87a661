import { AddressNotAllowed } from './webhook-post.js';

/** What a failed attempt is logged as: the kind of failure only (docs/webhooks.md "The delivery log"). */
export type AttemptError =
  | 'address not allowed'
  | 'name not resolved'
  | 'connection refused'
  | 'connection reset'
  | 'unreachable'
  | 'timed out'
  | 'TLS error'
  | 'connection failed';

const BY_CODE: Record<string, AttemptError> = {
  ENOTFOUND: 'name not resolved',
  EAI_AGAIN: 'name not resolved',
  EAI_FAIL: 'name not resolved',
  EAI_NODATA: 'name not resolved',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection reset',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out',
  UND_ERR_BODY_TIMEOUT: 'timed out',
  EPROTO: 'TLS error',
};

/**
 * The generic text of an attempt's error. The raw message is not kept: it names addresses and
 * ports ("connect ECONNREFUSED 10.0.0.5:443"), and a delivery log that repeats it would let whoever
 * sets a webhook's URL map the network behind Lethe.
 */
export function attemptErrorText(error: unknown): AttemptError {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (current instanceof AddressNotAllowed) return 'address not allowed';
    if (current.name === 'TimeoutError' || current.name === 'AbortError') return 'timed out';
    const code = (current as NodeJS.ErrnoException).code ?? '';
    const known = BY_CODE[code];
    if (known) return known;
    if (/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/.test(code)) {
      return 'TLS error';
    }
    current = current.cause;
  }
  return 'connection failed';
}
