import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { redactUrl, type Logger } from '../log.js';
import { errorPage } from '../pages.js';

export interface UpstreamOptions {
  url: string;
  timeoutSeconds: number;
  /** BOSH requests are held open by Prosody for up to a minute; they get this instead. */
  longPollTimeoutSeconds: number;
  isTrustedPeer(peer: string | undefined): boolean;
  /** Removes identity headers from an outgoing request's header list. */
  isIdentityHeader(name: string): boolean;
  logger: Logger;
  /** Told of every failed upstream request or websocket, with the error code. */
  onError?(code: string): void;
  /** Told of every websocket joined to the upstream, before any byte flows through it. */
  onWebSocket?(client: Socket, upstream: Socket): void;
}

export interface UpstreamProxy {
  /** Express handler for plain HTTP requests. */
  handle: RequestHandler;
  /** Handler for the server's `upgrade` event (websockets). */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  /** Closes idle keep-alive connections to the upstream. */
  close(): void;
}

/** `/http-bind` and its tenant form `/<tenant>/http-bind`. */
const LONG_POLL = /^\/(?:[^/?]+\/)?http-bind(?:[/?]|$)/;

const TIMED_OUT = 'UPSTREAM_TIMEOUT';

/** Is this request target a BOSH long-poll, which Prosody may hold for up to a minute? */
export function isLongPoll(url: string): boolean {
  return LONG_POLL.test(url);
}

/**
 * Everything the gateway does not answer itself goes to Jitsi unchanged and streamed: method,
 * path, query, body, `Host`, `Authorization` and response headers. Only identity headers are
 * removed, whoever sent them, and forwarding headers from an untrusted peer are replaced.
 */
export function createUpstreamProxy(options: UpstreamOptions): UpstreamProxy {
  const { logger } = options;
  // Reusing connections to the upstream is most of the cost of a proxied request.
  const agent = options.url.startsWith('https:')
    ? new HttpsAgent({ keepAlive: true })
    : new Agent({ keepAlive: true });
  // The browser's socket for each upstream websocket socket, until the two are piped together.
  const joined = new WeakMap<Socket, Socket>();

  const prepare = (proxyReq: ClientRequest, req: IncomingMessage): void => {
    for (const name of proxyReq.getHeaderNames()) {
      if (options.isIdentityHeader(name)) proxyReq.removeHeader(name);
    }
    if (!options.isTrustedPeer(req.socket.remoteAddress)) {
      proxyReq.setHeader('x-forwarded-for', req.socket.remoteAddress ?? '');
      proxyReq.setHeader('x-forwarded-proto', 'http');
      proxyReq.removeHeader('x-forwarded-host');
    }
  };

  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    target: options.url,
    changeOrigin: false,
    ws: false,
    agent,
    on: {
      proxyReq(proxyReq, req) {
        prepare(proxyReq, req);
        const seconds = LONG_POLL.test(req.url ?? '')
          ? options.longPollTimeoutSeconds
          : options.timeoutSeconds;
        proxyReq.setTimeout(seconds * 1000, () => {
          proxyReq.destroy(Object.assign(new Error('upstream timed out'), { code: TIMED_OUT }));
        });
      },
      proxyReqWs(proxyReq, req, socket) {
        prepare(proxyReq, req);
        proxyReq.once('upgrade', (_res: IncomingMessage, upstream: Socket) => {
          joined.set(upstream, socket as Socket);
        });
      },
      // Emitted once http-proxy has piped the two sockets together. Reading them before that
      // would take the upstream's first bytes away from the pipe.
      open(upstream) {
        const client = joined.get(upstream);
        if (client) options.onWebSocket?.(client, upstream);
      },
      proxyRes(proxyRes, _req, res) {
        // An upstream that drops mid-response must not leave the browser waiting for the rest:
        // the stream pipe does not pass the upstream's end on when the body is cut short.
        proxyRes.once('close', () => {
          if (!proxyRes.complete) res.destroy();
        });
        // The marker cookie set before proxying must survive the upstream's own Set-Cookie.
        const ours = res.getHeader('set-cookie');
        if (ours === undefined) return;
        const theirs = proxyRes.headers['set-cookie'] ?? [];
        proxyRes.headers['set-cookie'] = [...toArray(ours), ...theirs];
      },
      error(error, req, target) {
        const code = (error as NodeJS.ErrnoException).code ?? 'ERROR';
        options.onError?.(code);
        logger.warn(
          { reason: 'upstream-error', code, method: req.method, url: redactUrl(req.url ?? '') },
          'the upstream failed',
        );
        if (!isResponse(target)) {
          endUpgrade(target as Socket);
          return;
        }
        if (target.headersSent) {
          target.destroy();
          return;
        }
        const timedOut = code === TIMED_OUT;
        const page = timedOut
          ? errorPage(504, 'Jitsi did not answer in time.')
          : errorPage(502, 'Jitsi cannot be reached right now.');
        target.writeHead(page.status, page.headers).end(page.body);
      },
    },
  });

  return {
    handle: proxy as unknown as RequestHandler,
    upgrade: (req, socket, head) => {
      socket.on('error', () => socket.destroy());
      proxy.upgrade(req, socket, head);
    },
    close: () => agent.destroy(),
  };
}

function isResponse(target: unknown): target is ServerResponse {
  return typeof (target as ServerResponse).writeHead === 'function';
}

function endUpgrade(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
}

function toArray(value: number | string | string[]): string[] {
  return Array.isArray(value) ? value : [String(value)];
}
