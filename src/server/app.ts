import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import express, { type Express, type RequestHandler } from 'express';
import type { Config } from '../config/index.js';
import { createIdentityReader, type IdentityReader } from '../identity/index.js';
import {
  createBackstop,
  createNavigationHandler,
  createTokenEndpoint,
  readRoomNavigation,
  type Backstop,
} from '../inject/index.js';
import type { Logger } from '../log.js';
import { createMetrics, type GatewayMetrics } from '../metrics/index.js';
import { createUpstreamProxy, type UpstreamProxy } from '../proxy/index.js';
import { createKeyServer, createSigner, loadKeys, type KeyServer } from '../token/index.js';
import { createEndpoints, isGatewayPath, type GatewayEndpoints } from './endpoints.js';
import { createErrorHandler, sendError } from './error-handler.js';
import { createHealth } from './health.js';
import { createRequestObserver, type RequestObserver } from './request-log.js';

export interface AppOptions {
  config: Readonly<Config>;
  logger: Logger;
  /** Epoch seconds; tests pass a fixed clock. */
  clock?: () => number;
  /** Kept across reloads so that counters do not reset; a fresh registry when left out. */
  metrics?: GatewayMetrics;
  /** Readiness turns false while the server shuts down. */
  isDraining?: () => boolean;
  /** Told of every websocket joined to the upstream (the server closes them at shutdown). */
  onWebSocket?(client: Socket, upstream: Socket): void;
}

export interface Gateway {
  /** The request listener for node:http: the one entry for every plain HTTP request. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** The gateway's own paths: public keys, the token endpoint, health and metrics. */
  app: Express;
  proxy: UpstreamProxy;
  identity: IdentityReader;
  backstop: Backstop;
  config: Readonly<Config>;
  /** The `kid` of new tokens; undefined with a shared secret. */
  keyId: string | undefined;
  metrics: GatewayMetrics;
  observer: RequestObserver;
  endpoints: GatewayEndpoints;
}

const systemClock = (): number => Math.floor(Date.now() / 1000);

/**
 * The gateway's request pipeline, in its fixed order:
 * 1. the gateway's own paths go to its express app, which answers them in this order: the
 *    public keys, the token endpoint for Jitsi's `tokenAuthUrl`, health and metrics under
 *    /_gateway/; errors there become short pages;
 * 2. a room page navigation is read and may be redirected or refused (inject), and goes to
 *    Jitsi (proxy) when it is passed;
 * 3. everything else goes straight to Jitsi: static files, BOSH and fetches are most of the
 *    traffic, and pay for nothing but the proxy and the request's log line and metrics.
 * Only the own paths pay for express: on every other request its routing would cost more than
 * the gateway's own work.
 * Keys are imported here, once, so that a bad key stops the start (or is refused on reload).
 */
export function createGateway(options: AppOptions): Gateway {
  const { config, logger } = options;
  const metrics = options.metrics ?? createMetrics();
  const identity = createIdentityReader(config.identity);
  const backstop = createBackstop(
    config.inject.backstopWindowSeconds,
    config.inject.backstopMaxEntries,
  );
  const keys = loadKeys(config.token);
  const signer = createSigner(keys);
  const keyServer = createKeyServer(keys.published, config.token.keyServerPath);
  const proxy = createUpstreamProxy({
    url: config.upstream.url,
    timeoutSeconds: config.upstream.timeoutSeconds,
    longPollTimeoutSeconds: config.upstream.longPollTimeoutSeconds,
    isTrustedPeer: (peer) => identity.isTrustedPeer(peer),
    isIdentityHeader: (name) => identity.isIdentityHeader(name),
    logger,
    onError: (code) => metrics.upstreamFailed(code),
    onWebSocket: options.onWebSocket,
  });
  const observer = createRequestObserver({
    logger,
    metrics,
    accessLogLevel: config.server.accessLogLevel,
  });
  const endpoints = createEndpoints({
    health: createHealth({
      upstreamUrl: config.upstream.url,
      signer,
      isDraining: options.isDraining ?? (() => false),
    }),
    metrics,
    logger,
    publicMetrics: config.server.publicMetrics,
  });

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', false);
  const injectDependencies = {
    config,
    logger,
    identity,
    signer,
    backstop,
    clock: options.clock ?? systemClock,
    observer,
  };
  app.use(serveKeys(keyServer));
  app.use(createTokenEndpoint(injectDependencies));
  app.use((req, res, next) => {
    if (endpoints.handlePublic(req, res)) return;
    observer.begin(req, res);
    next();
  });
  app.use(proxy.handle);
  app.use(createErrorHandler(logger));

  const handleNavigation = createNavigationHandler(injectDependencies);
  const ownPaths = [config.token.keyServerPath, config.inject.tokenEndpointPath];
  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (isGatewayPath(url) || ownsPath(url, ownPaths)) {
      app(req, res);
      return;
    }

    observer.begin(req, res);
    const navigation = readRoomNavigation(req);
    if (navigation === undefined) {
      proxy.handle(req, res);
      return;
    }
    handleNavigation(req, res, navigation, (error) => {
      if (error === undefined) proxy.handle(req, res);
      else sendError(logger, req, res, error);
    });
  };

  return {
    handleRequest,
    app,
    proxy,
    identity,
    backstop,
    config,
    keyId: signer.keyId,
    metrics,
    observer,
    endpoints,
  };
}

function serveKeys(keyServer: KeyServer): RequestHandler {
  return (req, res, next) => {
    const answer = keyServer.answer(req.method, req.path);
    if (!answer) {
      next();
      return;
    }
    res.status(answer.status).set(answer.headers).send(answer.body);
  };
}

function ownsPath(url: string, prefixes: readonly string[]): boolean {
  const lower = url.toLowerCase();
  return prefixes.some((prefix) => lower.startsWith(prefix.toLowerCase()));
}
