import { Agent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface UpstreamRequest {
  method: string | undefined;
  /** Path and query, already prefixed with the upstream's own path. */
  path: string;
  /** A flat name/value list, sent exactly as given. */
  headers: string[];
}

export interface UpstreamTarget {
  /** The upstream URL's path without a trailing slash, put before every request path. */
  readonly pathPrefix: string;
  /** Opens a request on a kept-alive connection. */
  send(request: UpstreamRequest): ClientRequest;
  /** Opens a request on a connection of its own, for a websocket that will keep it. */
  sendAlone(request: UpstreamRequest): ClientRequest;
  /** Closes idle kept-alive connections. */
  close(): void;
}

/**
 * Idle connections are closed after this long, before the upstream closes them itself (nginx
 * waits 75 s, Node 5 s): a request sent on a connection the upstream is just closing fails.
 */
const IDLE_CONNECTION_MS = 4000;

export function createUpstreamTarget(url: string): UpstreamTarget {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  // Reusing connections to the upstream is most of the cost of a proxied request.
  const options = { keepAlive: true, timeout: IDLE_CONNECTION_MS };
  const agent = secure ? new HttpsAgent(options) : new Agent(options);
  // Websockets keep their connection. One agent for all of them: `agent: false` would make a
  // new one for each, kept in memory as long as the websocket is open.
  const alone = secure ? new HttpsAgent() : new Agent();
  const hostname = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port || (secure ? 443 : 80);
  // A plain object literal: every static file pays for building these options.
  const open = (request: UpstreamRequest, pooled: Agent): ClientRequest =>
    send({
      hostname,
      port,
      method: request.method,
      path: request.path,
      headers: request.headers,
      agent: pooled,
    });

  return {
    pathPrefix: parsed.pathname.replace(/\/+$/, ''),
    send: (request) => open(request, agent),
    sendAlone: (request) => open(request, alone),
    close: () => {
      agent.destroy();
      alone.destroy();
    },
  };
}
