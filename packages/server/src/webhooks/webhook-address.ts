import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** IPv6 global unicast (2000::/3): outside it nothing is a public receiver (old IPv4-compatible forms). */
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/**
 * Which addresses Lethe may send webhooks to (docs/webhooks.md "Receiver addresses"): public
 * unicast addresses only, so that a webhook cannot reach the host's own services, the private
 * network or a cloud metadata endpoint. Refused: loopback, RFC 1918, CGNAT (100.64/10, where some
 * clouds keep their metadata), link-local (169.254/16, fe80::/10), unique local (fc00::/7), 0/8 and
 * the unspecified address, multicast, broadcast, reserved and documentation ranges, and IPv6 forms
 * that carry an IPv4 address (mapped, NAT64, 6to4, Teredo). The ranges come from ipaddr.js. An
 * address inside an allowed network (LETHE_WEBHOOK_ALLOWED_NETWORKS) is taken whatever its range.
 */
export class WebhookAddresses {
  private readonly allowed: readonly [Address, number][];

  /** Throws on a network that is not a CIDR (`10.1.2.0/24`, `::1/128`). */
  constructor(allowedNetworks: readonly string[]) {
    this.allowed = allowedNetworks.map(parseNetwork);
  }

  /** Whether an IP address (as text) may receive webhooks. */
  allows(text: string): boolean {
    const address = ipaddr.process(text);
    if (this.allowed.some(([network, bits]) => sameKind(address, network) && address.match(network, bits))) {
      return true;
    }
    if (address.range() !== 'unicast') return false;
    return address.kind() === 'ipv4' || address.match(GLOBAL_UNICAST);
  }

  /** The literal IP address of a URL's host, or undefined for a host name. */
  static literal(hostname: string): string | undefined {
    const host = hostname.replace(/^\[|\]$/g, '');
    return isIP(host) === 0 ? undefined : host;
  }
}

/** A network of the allow-list; throws with the offending text. */
export function parseNetwork(text: string): [Address, number] {
  const problem = `"${text}" is not a network in CIDR form (like 10.1.2.0/24 or fd00::/8)`;
  const [address = '', bits, ...rest] = text.trim().split('/');
  // ipaddr.js also reads the old IPv4 shorthands ("10/8" is 0.0.0.10/8, "010.0.0.0" is octal):
  // only a full dotted-decimal or IPv6 address is taken, so the network is the one written.
  if (rest.length > 0 || bits === undefined || !/^\d{1,3}$/.test(bits) || isIP(address) === 0) {
    throw new Error(problem);
  }
  let network: [Address, number];
  try {
    network = ipaddr.parseCIDR(`${address}/${bits}`);
  } catch {
    throw new Error(problem);
  }
  // Host bits set ("10.1.2.3/16") usually mean a mistyped prefix length: name the network meant.
  const kind = network[0].kind() === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6;
  const start = kind.networkAddressFromCIDR(`${address}/${bits}`).toString();
  if (start !== network[0].toString()) throw new Error(`${problem}: host bits are set (${start}/${bits}?)`);
  return network;
}

function sameKind(address: Address, network: Address): boolean {
  return address.kind() === network.kind();
}
