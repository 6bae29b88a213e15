import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import { reportFailure, timeoutError } from './failure.js';
import {
  browserResponseHeaders,
  responseHead,
  upstreamRequestHeaders,
  type HeaderPolicy,
} from './headers.js';
import type { UpstreamTarget } from './target.js';

export interface WebSocketPassOptions {
  target: UpstreamTarget;
  policy: HeaderPolicy;
  /** How long the upstream may take to answer the handshake; an open websocket is never cut. */
  timeoutSeconds: number;
  logger: Logger;
  onError?(code: string): void;
  onWebSocket?(client: Socket, upstream: Socket): void;
}

/**
 * A handler for the server's `upgrade` event, on any path: the handshake goes to the upstream
 * without identity headers, and once it answers 101 the two sockets are joined byte for byte.
 * Any other answer is passed back and the socket closed.
 */
export function createWebSocketPass(
  options: WebSocketPassOptions,
): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  const { target, policy, logger } = options;

  return (req, socket, head) => {
    socket.on('error', destroySocket);
    const upstreamReq = target.sendAlone({
      method: req.method,
      path: target.pathPrefix + (req.url ?? '/'),
      headers: upstreamRequestHeaders(req, policy, true),
    });
    upstreamReq.setTimeout(options.timeoutSeconds * 1000, () =>
      upstreamReq.destroy(timeoutError()),
    );
    // Only until the upstream answers: kept longer, it would hold the handshake's request
    // objects in memory for as long as the websocket stays open.
    const abandon = (): void => void upstreamReq.destroy();
    socket.once('close', abandon);

    upstreamReq.on('upgrade', (upstreamRes, upstreamSocket: Socket, upstreamHead) => {
      socket.off('close', abandon);
      upstreamSocket.setTimeout(0);
      join(socket, upstreamSocket);
      options.onWebSocket?.(socket, upstreamSocket);
      socket.write(responseHead(upstreamRes, upstreamRes.rawHeaders));
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
    });
    upstreamReq.on('response', (upstreamRes) => {
      socket.off('close', abandon);
      const headers = [...browserResponseHeaders(upstreamRes), 'Connection', 'close'];
      socket.write(responseHead(upstreamRes, headers));
      upstreamRes.pipe(socket);
    });
    upstreamReq.on('error', (error) => {
      if (socket.destroyed) return;
      const { timedOut } = reportFailure(error, req, logger, options.onError);
      const status = timedOut ? '504 Gateway Timeout' : '502 Bad Gateway';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    upstreamReq.end();
  };
}

/**
 * Listeners that live as long as a websocket are made outside the handshake's scope: a closure
 * made inside it would keep all of the handshake's objects in memory with it.
 */
function destroySocket(this: Socket): void {
  this.destroy();
}

/**
 * Each side's end or failure ends the other. 'close' comes once, so `on` does: `once` would add
 * a wrapper to each of thousands of idle sockets.
 */
function join(socket: Socket, upstreamSocket: Socket): void {
  // An open websocket is never cut for being quiet; this also frees the server's idle timer.
  socket.setTimeout(0);
  socket.setNoDelay(true);
  upstreamSocket.setNoDelay(true);
  upstreamSocket.on('error', () => socket.destroy());
  socket.on('close', () => upstreamSocket.destroy());
  upstreamSocket.on('close', () => socket.destroy());
  upstreamSocket.pipe(socket).pipe(upstreamSocket);
}
