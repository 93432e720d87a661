import { isIP } from 'node:net';

/**
 * Whether Lethe may send to `text`: an absolute https URL, or http to a loopback address (a
 * receiver on the same host needs no certificate), or http anywhere when `allowHttp` (a test
 * setup; LETHE_WEBHOOK_ALLOW_HTTP). Credentials in the URL are refused: they would be stored in
 * clear and shown in every listing. Returns why not, or undefined when allowed.
 */
export function webhookUrlProblem(text: string, allowHttp: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not an absolute URL.`;
  }
  if (url.username || url.password) return 'A webhook URL may not carry a user name or password.';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return `A webhook URL must be https, not ${url.protocol.slice(0, -1)}.`;
  if (allowHttp || isLoopback(url.hostname)) return undefined;
  return 'A webhook URL must be https (http only to a loopback address, or with LETHE_WEBHOOK_ALLOW_HTTP).';
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
