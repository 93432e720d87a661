import { describe, expect, it } from 'vitest';
import { WebhookAddresses } from '../src/webhooks/webhook-address.js';
import { attemptErrorText } from '../src/webhooks/webhook-error-text.js';
import { AddressNotAllowed } from '../src/webhooks/webhook-post.js';
import { webhookUrlProblem } from '../src/webhooks/webhook-url.js';

/** Addresses no webhook may reach by default: the host, the private network, the cloud's metadata. */
const REFUSED = [
  '127.0.0.1',
  '127.8.9.10',
  '10.0.0.5',
  '172.16.3.4',
  '192.168.1.1',
  '100.64.0.1',
  '100.100.100.200', // Alibaba's metadata, in CGNAT space
  '169.254.169.254', // AWS, GCP, Azure metadata
  '0.0.0.0',
  '0.1.2.3',
  '224.0.0.1',
  '255.255.255.255',
  '240.0.0.1',
  '192.0.2.10',
  '198.18.0.1',
  '::',
  '::1',
  'fe80::1',
  'fc00::1',
  'fd00:ec2::254', // AWS metadata over IPv6, unique local
  '::ffff:10.0.0.5',
  '::ffff:169.254.169.254',
  '::ffff:127.0.0.1',
  '::7f00:1', // the old IPv4-compatible form of 127.0.0.1
  '64:ff9b::a00:5', // NAT64 of 10.0.0.5
  '2002:a00:5::1', // 6to4 of 10.0.0.5
  '2001:db8::1',
  'ff02::1',
];
const PUBLIC = ['93.184.215.14', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'];

describe('webhook receiver addresses', () => {
  const strict = new WebhookAddresses([]);

  it.each(REFUSED)('refuses %s by default', (address) => {
    expect(strict.allows(address)).toBe(false);
  });

  it.each(PUBLIC)('allows the public address %s', (address) => {
    expect(strict.allows(address)).toBe(true);
  });

  it('lets an allowed network through, and only it', () => {
    const allowed = new WebhookAddresses(['127.0.0.0/8', '::1/128', '10.20.0.0/16']);
    for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '::1', '10.20.3.4']) {
      expect(allowed.allows(address), address).toBe(true);
    }
    for (const address of ['10.21.0.1', '169.254.169.254', 'fe80::1', '192.168.1.1']) {
      expect(allowed.allows(address), address).toBe(false);
    }
  });

  it('refuses an allow-list entry that is not a CIDR', () => {
    expect(() => new WebhookAddresses(['10.0.0.0'])).toThrow(/CIDR/);
    expect(() => new WebhookAddresses(['intranet/8'])).toThrow(/CIDR/);
  });

  it.each([
    ['10/8', 'would be 0.0.0.10/8: the host itself'],
    ['192.168.1/24', 'would be 192.168.0.0/24'],
    ['010.0.0.0/8', 'octal: would be 8.0.0.0/8'],
    ['0xa.0.0.0/8', 'hex'],
    ['10.0.0.0/8/8', 'two prefixes'],
    ['10.0.0.0/+8', 'a signed prefix'],
  ])('refuses the IPv4 shorthand %s (%s), so the network allowed is the one written', (entry) => {
    expect(() => new WebhookAddresses([entry])).toThrow(/CIDR/);
  });

  it('names the network meant when an entry has host bits set', () => {
    expect(() => new WebhookAddresses(['10.1.2.3/16'])).toThrow(/host bits are set \(10\.1\.0\.0\/16\?\)/);
    expect(() => new WebhookAddresses(['fd00::1/8'])).toThrow(/host bits/);
    expect(() => new WebhookAddresses(['10.1.0.0/16', 'fd00::/8', '::1/128'])).not.toThrow();
  });

  it('checks an address written in the URL when the webhook is set; a host name waits for the send', () => {
    const problem = (url: string, addresses = strict) => webhookUrlProblem(url, false, addresses);
    for (const url of [
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.5/',
      'https://[::ffff:a9fe:a9fe]/',
      'https://[fd00:ec2::254]/',
      'https://0x7f.1/', // the URL parser reads it as 127.0.0.1
      'https://2130706433/',
      'http://127.0.0.1:8080/hook',
      'http://[::1]/hook',
    ]) {
      expect(problem(url), url).toMatch(/private, loopback, link-local or reserved/);
    }
    expect(problem('https://93.184.215.14/hook')).toBeUndefined();
    expect(problem('https://hooks.example.com/hook')).toBeUndefined();
    expect(problem('http://localhost:8080/hook')).toBeUndefined();
    expect(problem('http://127.0.0.1:8080/hook', new WebhookAddresses(['127.0.0.0/8']))).toBeUndefined();
    expect(problem('http://10.0.0.5/hook')).toMatch(/must be https/);
  });

  it('logs an attempt error by its kind, never its text', () => {
    const coded = (code: string, message: string) => Object.assign(new Error(message), { code });
    const wrapped = (cause: Error) => new TypeError('fetch failed', { cause });
    expect(attemptErrorText(new AddressNotAllowed())).toBe('address not allowed');
    expect(attemptErrorText(coded('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.5:443'))).toBe(
      'connection refused',
    );
    expect(attemptErrorText(wrapped(coded('ENOTFOUND', 'getaddrinfo ENOTFOUND db.internal')))).toBe(
      'name not resolved',
    );
    expect(
      attemptErrorText(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ).toBe('timed out');
    expect(attemptErrorText(coded('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'))).toBe('timed out');
    expect(
      attemptErrorText(
        coded('ERR_TLS_CERT_ALTNAME_INVALID', "Host: 10.0.0.5. is not in the cert's altnames"),
      ),
    ).toBe('TLS error');
    expect(attemptErrorText(coded('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'))).toBe(
      'TLS error',
    );
    expect(attemptErrorText(coded('EHOSTUNREACH', 'connect EHOSTUNREACH 10.9.9.9:443'))).toBe('unreachable');
    expect(attemptErrorText(new Error('something else at 10.0.0.5'))).toBe('connection failed');
  });
});
