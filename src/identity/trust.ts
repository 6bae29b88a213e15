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
  return (peer) => typeof peer === 'string' && trust(peer, 0);
}

function isUsableEntry(entry: string): boolean {
  try {
    proxyAddr.compile([entry]);
    return true;
  } catch {
    return false;
  }
}
