import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import type { Config } from '../config/index.js';
import { createIdentityReader, type IdentityReader } from '../identity/index.js';
import {
  createBackstop,
  createInjectMiddleware,
  isPageNavigation,
  readRoomPath,
  type Backstop,
} from '../inject/index.js';
import type { Logger } from '../log.js';
import { createUpstreamProxy, type UpstreamProxy } from '../proxy/index.js';
import { createSigner } from '../token/index.js';
import { createErrorHandler } from './error-handler.js';

export interface AppOptions {
  config: Readonly<Config>;
  logger: Logger;
  /** Epoch seconds; tests pass a fixed clock. */
  clock?: () => number;
}

export interface Gateway {
  /** The request listener for node:http: the one entry for every plain HTTP request. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** The inject pipeline, for room page navigations only. */
  app: Express;
  proxy: UpstreamProxy;
  identity: IdentityReader;
  backstop: Backstop;
}

const systemClock = (): number => Math.floor(Date.now() / 1000);

/**
 * The gateway's request pipeline, in its fixed order:
 * 1. a request that cannot be a room page navigation goes straight to Jitsi (proxy), without
 *    the express app: static files, BOSH and fetches are most of the traffic;
 * 2. room page navigations are read and may be redirected or refused (inject);
 * 3. every passed navigation goes to Jitsi (proxy);
 * 4. errors become short pages.
 * Keys are imported here, once, so that a bad key stops the start.
 */
export function createGateway(options: AppOptions): Gateway {
  const { config, logger } = options;
  const identity = createIdentityReader(config.identity);
  const backstop = createBackstop(
    config.inject.backstopWindowSeconds,
    config.inject.backstopMaxEntries,
  );
  const signer = createSigner(config.token.secret ?? '');
  const proxy = createUpstreamProxy({
    url: config.upstream.url,
    timeoutSeconds: config.upstream.timeoutSeconds,
    longPollTimeoutSeconds: config.upstream.longPollTimeoutSeconds,
    isTrustedPeer: (peer) => identity.isTrustedPeer(peer),
    isIdentityHeader: isIdentityHeaderFor(identity.headerNames),
    logger,
  });

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', false);
  app.use(
    createInjectMiddleware({
      config,
      logger,
      identity,
      signer,
      backstop,
      clock: options.clock ?? systemClock,
    }),
  );
  app.use(proxy.handle);
  app.use(createErrorHandler(logger));

  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (isRoomPageCandidate(req)) app(req, res);
    else proxy.handle(req, res);
  };

  return { handleRequest, app, proxy, identity, backstop };
}

/**
 * The same test the inject step starts with, asked first and cheaply: the method before any
 * header (`req.headers` is built on first use), the headers before the path.
 */
function isRoomPageCandidate(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (!isPageNavigation(req.method, req.headers)) return false;

  const url = req.url ?? '/';
  const question = url.indexOf('?');
  return readRoomPath(question === -1 ? url : url.slice(0, question)) !== undefined;
}

function isIdentityHeaderFor(names: readonly string[]): (lowerName: string) => boolean {
  const set = new Set(names.map((name) => name.toLowerCase()));
  return (lowerName) => set.has(lowerName) || lowerName.startsWith('x-ssl-client-');
}
