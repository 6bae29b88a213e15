import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** What the proxy needs to know about identity and trust; it reads no header values itself. */
export interface HeaderPolicy {
  isTrustedConnection(socket: Socket): boolean;
  /** Takes a lower-case header name. */
  isIdentityHeader(lowerName: string): boolean;
}

/**
 * Hop-by-hop headers describe one connection and must not be passed on (RFC 9110 section 7.6.1).
 * `transfer-encoding` is not among them on requests: Node frames the body it streams by it.
 */
const REQUEST_HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
]);

/** What turns a request into a websocket handshake: kept, on upgrade requests only. */
const UPGRADE_HEADERS = new Set(['connection', 'upgrade']);

/** Node frames the response to the browser itself, from `content-length` or chunked. */
const RESPONSE_HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/** Forwarding headers that only a trusted proxy may set; from anyone else they are replaced. */
const FORWARDING = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
  'forwarded',
]);

/**
 * Whether a connection's peer is a trusted proxy, asked once per connection: the peer cannot
 * change while it stays open, and a browser or nginx sends many requests on one.
 */
export function createPeerTrust(
  isTrustedPeer: (peer: string | undefined) => boolean,
): (socket: Socket) => boolean {
  const known = new WeakMap<Socket, boolean>();
  return (socket) => {
    let trusted = known.get(socket);
    if (trusted === undefined) {
      trusted = isTrustedPeer(socket.remoteAddress);
      known.set(socket, trusted);
    }
    return trusted;
  };
}

/**
 * The headers of the request to the upstream, as a flat name/value list in arrival order: every
 * identity header is removed whoever sent it (strip first, then add our own), hop-by-hop headers
 * are dropped, and a peer that is not a trusted proxy gets its own address as
 * `X-Forwarded-For`. `Host` is kept. For a websocket, `Connection` and `Upgrade` are kept.
 */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  policy: HeaderPolicy,
  upgrade = false,
): string[] {
  const trusted = policy.isTrustedConnection(req.socket);
  const raw = req.rawHeaders;
  const headers: string[] = [];

  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index] as string;
    const lower = name.toLowerCase();
    if (policy.isIdentityHeader(lower)) continue;
    if (!trusted && FORWARDING.has(lower)) continue;
    if (REQUEST_HOP_BY_HOP.has(lower) && !(upgrade && UPGRADE_HEADERS.has(lower))) continue;
    headers.push(name, raw[index + 1] as string);
  }

  if (!trusted) {
    headers.push('X-Forwarded-For', req.socket.remoteAddress ?? '', 'X-Forwarded-Proto', 'http');
  }
  return headers;
}

/** The upstream's response headers for the browser, without hop-by-hop headers. */
export function browserResponseHeaders(upstreamRes: IncomingMessage): string[] {
  const raw = upstreamRes.rawHeaders;
  const headers: string[] = [];

  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index] as string;
    if (RESPONSE_HOP_BY_HOP.has(name.toLowerCase())) continue;
    headers.push(name, raw[index + 1] as string);
  }
  return headers;
}

/** The response head for a raw socket, as the websocket handshake answer needs it. */
export function responseHead(upstreamRes: IncomingMessage, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${upstreamRes.statusCode} ${upstreamRes.statusMessage}\r\n`;
  for (let index = 0; index < headers.length; index += 2) {
    head += `${headers[index]}: ${headers[index + 1]}\r\n`;
  }
  return `${head}\r\n`;
}
