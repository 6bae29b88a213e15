import proxyAddr from 'proxy-addr';
import { GatewayError } from '../errors.js';

/**
 * Compiles `identity.trustedProxies` into a predicate on the peer address. Each entry is
 * compiled on its own first, so that one message names every entry proxy-addr refuses.
 */
export function compileTrust(
  trustedProxies: readonly string[],
): (peer: string | undefined) => boolean {
  const refused = trustedProxies.filter((entry) => !isUsableEntry(entry));
  if (refused.length > 0) {
    const list = refused.map((entry) => JSON.stringify(entry)).join(', ');
    throw new GatewayError(
      'CONFIG_INVALID',
      `identity.trustedProxies: ${list} must be an address, a CIDR range, or one of loopback, linklocal, uniquelocal`,
    );
  }

  // proxy-addr matches an IPv4-mapped IPv6 peer (::ffff:127.0.0.1) against IPv4 ranges itself,
  // and answers false for anything that is not an IP address.
  const trust = proxyAddr.compile([...trustedProxies]);
  // Parsing the address is most of the cost, and a gateway hears from few peers: its proxies.
  const known = new Map<string, boolean>();
  return (peer) => {
    if (typeof peer !== 'string') return false;

    let trusted = known.get(peer);
    if (trusted === undefined) {
      trusted = trust(peer, 0);
      known.set(peer, trusted);
      if (known.size > REMEMBERED_PEERS) known.delete(known.keys().next().value as string);
    }
    return trusted;
  };
}

/** Peers whose answer is kept; the one asked about first is forgotten first. */
const REMEMBERED_PEERS = 256;

function isUsableEntry(entry: string): boolean {
  try {
    proxyAddr.compile([entry]);
    return true;
  } catch {
    return false;
  }
}
