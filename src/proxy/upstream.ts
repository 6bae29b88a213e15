import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import { createPeerTrust } from './headers.js';
import { createHttpPass } from './http-pass.js';
export { isLongPoll } from './http-pass.js';
import { createUpstreamTarget } from './target.js';
import { createWebSocketPass } from './websocket-pass.js';

export interface UpstreamOptions {
  url: string;
  timeoutSeconds: number;
  /** BOSH requests are held open by Prosody for up to a minute; they get this instead. */
  longPollTimeoutSeconds: number;
  isTrustedPeer(peer: string | undefined): boolean;
  /** Takes a lower-case header name: is it an identity header, to remove before passing on? */
  isIdentityHeader(lowerName: string): boolean;
  logger: Logger;
  /** Told the code of every upstream failure (for metrics). */
  onError?(code: string): void;
  /** Told of every websocket once its two sockets are joined (to close it at shutdown). */
  onWebSocket?(client: Socket, upstream: Socket): void;
}

export interface UpstreamProxy {
  /** Handler for plain HTTP requests; also the last handler of the express app. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Handler for the server's `upgrade` event (websockets). */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  /** Closes idle keep-alive connections to the upstream. */
  close(): void;
}

/**
 * Everything the gateway does not answer itself goes to Jitsi unchanged and streamed: method,
 * path, query, body, `Host`, `Authorization` and response headers. Only identity headers are
 * removed, whoever sent them, and forwarding headers from an untrusted peer are replaced. A
 * dead upstream gets a 502 page, a slow one a 504.
 */
export function createUpstreamProxy(options: UpstreamOptions): UpstreamProxy {
  const target = createUpstreamTarget(options.url);
  const policy = {
    isTrustedConnection: createPeerTrust(options.isTrustedPeer),
    isIdentityHeader: options.isIdentityHeader,
  };
  const common = {
    target,
    policy,
    timeoutSeconds: options.timeoutSeconds,
    logger: options.logger,
    onError: options.onError,
  };

  return {
    handle: createHttpPass({ ...common, longPollTimeoutSeconds: options.longPollTimeoutSeconds }),
    upgrade: createWebSocketPass({ ...common, onWebSocket: options.onWebSocket }),
    close: () => target.close(),
  };
}
