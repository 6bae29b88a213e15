import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';

/**
 * The HTTP server's own limits, from `limits.*`. Node checks the two timeouts only every
 * `connectionsCheckingInterval` (30 s by default), which would let a slow sender hold its
 * connection that much longer; once a second is cheap and close enough.
 */
export function serverOptions(limits: Config['limits']): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutSeconds * 1000,
    requestTimeout: limits.requestTimeoutSeconds * 1000,
    keepAliveTimeout: limits.keepAliveTimeoutSeconds * 1000,
    maxHeaderSize: limits.maxHeaderBytes,
    connectionsCheckingInterval: 1000,
  };
}

export interface ConnectionLimit {
  /** Open connections allowed at once from one peer; 0 for no limit. */
  maxPerPeer: number;
  /** Peers that are never limited: the trusted proxies, through which every browser comes. */
  isExempt(peer: string | undefined): boolean;
  logger: Logger;
}

const TOO_MANY_BODY = 'Too many connections from this address.\n';
const TOO_MANY =
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
  `Content-Length: ${Buffer.byteLength(TOO_MANY_BODY)}\r\n\r\n${TOO_MANY_BODY}`;

/**
 * Caps the connections one peer that is not a trusted proxy may hold open at once. A connection
 * over the cap is answered 503 and closed before any of its requests is read. A peer is
 * remembered only while it has connections open, and logged at warn once each time it reaches
 * the cap, so that a flood of connections does not become a flood of log lines.
 */
export function limitConnectionsPerPeer(server: Server, limit: ConnectionLimit): void {
  if (limit.maxPerPeer === 0) return;

  const open = new Map<string, number>();
  const reported = new Set<string>();
  // Before Node's own listener, so that a refused connection never gets a request parsed.
  server.prependListener('connection', (socket: Socket) => {
    const peer = socket.remoteAddress;
    if (peer === undefined || limit.isExempt(peer)) return;

    const count = open.get(peer) ?? 0;
    if (count >= limit.maxPerPeer) {
      if (!reported.has(peer)) {
        reported.add(peer);
        limit.logger.warn({ peer, reason: 'too-many-connections' }, 'refused connections');
      }
      socket.write(TOO_MANY);
      socket.destroySoon();
      return;
    }

    open.set(peer, count + 1);
    socket.once('close', () => {
      const left = (open.get(peer) ?? 1) - 1;
      if (left > 0) return void open.set(peer, left);
      open.delete(peer);
      reported.delete(peer);
    });
  });
}
