import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { writeMetrics, type GatewayMetrics } from '../metrics/index.js';
import type { Health, Readiness } from './health.js';

/**
 * The gateway's own paths on the main port. They live outside the room namespace: the gateway
 * answers everything under it itself, so none of it is read as a room page or reaches Jitsi.
 */
export const GATEWAY_PREFIX = '/_gateway/';

export interface GatewayEndpoints {
  /** Answers a request under `/_gateway/` on the main port and returns true; false otherwise. */
  handlePublic(req: IncomingMessage, res: ServerResponse): boolean;
  /** The metrics listener: `/metrics`, `/healthz` and `/readyz`. */
  handleInternal(req: IncomingMessage, res: ServerResponse): void;
}

export interface EndpointOptions {
  health: Health;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Serve `/_gateway/metrics` on the main port too. */
  publicMetrics: boolean;
}

/** Is this raw request target under `/_gateway/`, also when its first segment is escaped? */
export function isGatewayPath(url: string): boolean {
  if (url.startsWith(GATEWAY_PREFIX)) return true;

  const slash = url.indexOf('/', 1);
  if (slash === -1 || !url.startsWith('/')) return false;
  try {
    // Any spelling: nginx and Jitsi would read `/_GATEWAY/` as a tenant otherwise.
    return decodeURIComponent(url.slice(1, slash)).toLowerCase() === GATEWAY_PREFIX.slice(1, -1);
  } catch {
    return false;
  }
}

export function createEndpoints(options: EndpointOptions): GatewayEndpoints {
  const { health, metrics, logger } = options;
  let lastReady: boolean | undefined;

  const serve = (name: string, req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    if (name === 'healthz') {
      reply(res, 200, 'ok\n');
      return;
    }
    if (name === 'readyz') {
      health.readiness().then(
        (readiness) => answerReadiness(res, readiness),
        () => reply(res, 503, 'readiness could not be checked\n'),
      );
      return;
    }
    if (name === 'metrics') {
      void writeMetrics(metrics, res);
      return;
    }
    reply(res, 404, 'not found\n');
  };

  function answerReadiness(res: ServerResponse, readiness: Readiness): void {
    if (readiness.ready !== lastReady) {
      if (readiness.ready) logger.info({ checks: readiness.checks }, 'ready');
      else logger.warn({ checks: readiness.checks }, 'not ready');
      lastReady = readiness.ready;
    }
    const body = `${JSON.stringify(readiness)}\n`;
    reply(res, readiness.ready ? 200 : 503, body, { 'Content-Type': 'application/json' });
  }

  return {
    handlePublic(req, res) {
      const url = req.url ?? '/';
      if (!isGatewayPath(url)) return false;

      const path = pathOf(url);
      const name = path.slice(path.indexOf('/', 1) + 1);
      const allowed = name === 'metrics' ? options.publicMetrics : true;
      serve(allowed ? name : 'not-found', req, res);
      return true;
    },
    handleInternal(req, res) {
      serve(pathOf(req.url ?? '/').slice(1), req, res);
    },
  };
}

function pathOf(url: string): string {
  const question = url.indexOf('?');
  return question === -1 ? url : url.slice(0, question);
}

function reply(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body);
}
