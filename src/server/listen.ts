import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { createMetrics, type GatewayMetrics } from '../metrics/index.js';
import { createGateway, type Gateway } from './app.js';
import { answerClientError } from './client-error.js';
import { isGatewayPath } from './endpoints.js';
import { limitConnectionsPerPeer, serverOptions } from './limits.js';
import { createReloadableHandler } from './reload.js';
import { shutDown, type ShutdownReport } from './shutdown.js';
import { createWebSocketRegistry } from './websockets.js';

export interface RunningGateway {
  server: Server;
  port: number;
  /** `http://host:port`, for tests and the startup log. */
  url: string;
  /** `http://host:port/metrics` of the separate metrics listener, when there is one. */
  metricsUrl?: string;
  metrics: GatewayMetrics;
  /** The gateway answering new requests; a reload replaces it. */
  current(): Gateway;
  /**
   * Builds a gateway from `config` and swaps it in without dropping a connection. Throws (and
   * keeps the current one) when the new gateway cannot be built, e.g. for an unusable key.
   * Returns the settings that changed but need a restart: the listen addresses.
   */
  reload(config: Readonly<Config>): { notApplied: string[] };
  /** Graceful stop (see shutDown); the grace defaults to `server.shutdownGraceSeconds`. */
  close(options?: { graceSeconds?: number }): Promise<ShutdownReport>;
}

export interface StartOptions {
  config: Readonly<Config>;
  logger: Logger;
  clock?: () => number;
}

/** Settings read only when the listeners are bound. */
const LISTEN_SETTINGS = [
  ['listen.host', (config: Readonly<Config>) => config.listen.host],
  ['listen.port', (config: Readonly<Config>) => config.listen.port],
  ['server.metricsHost', (config: Readonly<Config>) => config.server.metricsHost],
  ['server.metricsPort', (config: Readonly<Config>) => config.server.metricsPort],
] as const;

/**
 * Binds the listen address (and the metrics listener, when configured) and wires websocket
 * upgrades to the proxy explicitly: a Jitsi client reconnecting to a restarted gateway sends a
 * websocket before any plain request.
 */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  keepRequestsYoung();
  const metrics = createMetrics();
  const websockets = createWebSocketRegistry(metrics);
  let draining = false;
  const build = (config: Readonly<Config>): Gateway =>
    createGateway({
      ...options,
      config,
      metrics,
      isDraining: () => draining,
      onWebSocket: (client, upstream) => websockets.track(client, upstream),
    });

  const handler = createReloadableHandler(build(options.config), () => {
    // A keep-alive connection whose response just ended would otherwise hold the stop up.
    if (draining) setImmediate(() => server.closeIdleConnections());
  });
  // Limits are bound with the server; like the listen address, they need a restart to change.
  const { limits } = options.config;
  const server = createServer(serverOptions(limits), (req, res) => handler.handle(req, res));
  limitConnectionsPerPeer(server, {
    maxPerPeer: limits.maxConnectionsPerPeer,
    isExempt: (peer) => handler.current().identity.isTrustedPeer(peer),
    logger: options.logger,
  });
  // Upgraded sockets leave the server's connection list; keep them to close them at shutdown.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, socket, head) => {
    // A browser that resets the connection must not take the process down with an 'error'.
    socket.on('error', () => socket.destroy());
    if (draining || isGatewayPath(req.url ?? '/')) {
      const status = draining ? '503 Service Unavailable' : '404 Not Found';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    const gateway = handler.current();
    gateway.observer.beginUpgrade(req, socket);
    gateway.proxy.upgrade(req, socket as Socket, head);
  });
  server.on('clientError', answerClientError);

  const { config } = options;
  const address = await bind(server, config.listen.host, config.listen.port);
  let metricsServer: Server | undefined;
  let metricsUrl: string | undefined;
  if (config.server.metricsPort !== undefined) {
    metricsServer = createServer((req, res) =>
      handler.current().endpoints.handleInternal(req, res),
    );
    try {
      const bound = await bind(metricsServer, config.server.metricsHost, config.server.metricsPort);
      metricsUrl = `${bound.url}/metrics`;
    } catch (error) {
      server.close();
      throw error;
    }
  }

  let closing: Promise<ShutdownReport> | undefined;
  return {
    server,
    port: address.port,
    url: address.url,
    metricsUrl,
    metrics,
    current: () => handler.current(),
    reload(next) {
      const before = handler.current().config;
      let gateway: Gateway;
      try {
        gateway = build(next);
      } catch (error) {
        metrics.configReloaded('rejected');
        throw error;
      }
      handler.swap(gateway);
      metrics.configReloaded('applied');
      return {
        notApplied: LISTEN_SETTINGS.filter(([, read]) => read(before) !== read(next)).map(
          ([key]) => key,
        ),
      };
    },
    close(closeOptions = {}) {
      draining = true;
      const graceSeconds =
        closeOptions.graceSeconds ?? handler.current().config.server.shutdownGraceSeconds;
      closing ??= shutDown({ server, metricsServer, handler, websockets, upgraded }, graceSeconds);
      return closing;
    },
  };
}

async function bind(
  server: Server,
  host: string,
  port: number,
): Promise<{ port: number; url: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { port: address.port, url: `http://${hostForUrl}:${address.port}` };
}

/**
 * Turns off V8's allocation-site pretenuring. Measured here: after a few thousand websockets,
 * each young-generation collection took five times as long and a static file cost half as much
 * again, until the process ended; with pretenuring off, neither. The likely cause: a websocket's
 * handshake objects live as long as the websocket and are made at the same places in the code
 * as those of ordinary requests, which live a millisecond, so V8 starts making the latter in the
 * old generation too. A proxy's objects are nearly all short-lived, the case V8's young
 * generation is built for.
 */
function keepRequestsYoung(): void {
  // V8 reads this flag at each collection, so setting it now takes effect (checked with
  // --trace-pretenuring-statistics, which reports nothing afterwards).
  setFlagsFromString('--no-allocation-site-pretenuring');
}
