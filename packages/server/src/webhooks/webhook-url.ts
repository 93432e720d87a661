import { isIP } from 'node:net';
import { WebhookAddresses } from './webhook-address.js';

/**
 * Whether Lethe may send to `text`: an absolute https URL, or http to a loopback host (a receiver
 * on the same host needs no certificate), or http anywhere when `allowHttp` (a test setup;
 * LETHE_WEBHOOK_ALLOW_HTTP). Credentials in the URL are refused: they would be stored in clear
 * and shown in every listing. A host written as an IP address must be one `addresses` allows (a
 * public one, or inside LETHE_WEBHOOK_ALLOWED_NETWORKS); a host name is checked at each send,
 * since what it resolves to may change. Returns why not, or undefined when allowed.
 */
export function webhookUrlProblem(
  text: string,
  allowHttp: boolean,
  addresses: WebhookAddresses,
): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not an absolute URL.`;
  }
  if (url.username || url.password) return 'A webhook URL may not carry a user name or password.';
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `A webhook URL must be https, not ${url.protocol.slice(0, -1)}.`;
  }
  if (url.protocol === 'http:' && !allowHttp && !isLoopback(url.hostname)) {
    return 'A webhook URL must be https (http only to a loopback address, or with LETHE_WEBHOOK_ALLOW_HTTP).';
  }
  const literal = WebhookAddresses.literal(url.hostname);
  if (literal !== undefined && !addresses.allows(literal)) {
    return (
      'A webhook URL may not name a private, loopback, link-local or reserved address ' +
      '(unless its network is in LETHE_WEBHOOK_ALLOWED_NETWORKS).'
    );
  }
  return undefined;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
