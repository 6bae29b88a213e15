import express, { type Express, type RequestHandler } from 'express';
import type { Config } from '../config/index.js';
import { createIdentityReader, type IdentityReader } from '../identity/index.js';
import { createBackstop, createInjectMiddleware, type Backstop } from '../inject/index.js';
import type { Logger } from '../log.js';
import { createUpstreamProxy, type UpstreamProxy } from '../proxy/index.js';
import { createKeyServer, createSigner, loadKeys, type KeyServer } from '../token/index.js';
import { createErrorHandler } from './error-handler.js';

export interface AppOptions {
  config: Readonly<Config>;
  logger: Logger;
  /** Epoch seconds; tests pass a fixed clock. */
  clock?: () => number;
}

export interface Gateway {
  app: Express;
  proxy: UpstreamProxy;
  identity: IdentityReader;
  backstop: Backstop;
}

const systemClock = (): number => Math.floor(Date.now() / 1000);

/**
 * The gateway's request pipeline, in its fixed order:
 * 1. the public keys are served under their own path, which is never a room and never proxied;
 * 2. room page navigations are read and may be redirected or refused (inject);
 * 3. everything else, and every passed navigation, goes to Jitsi (proxy);
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
  });

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', false);
  app.use(serveKeys(keyServer));
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

  return { app, proxy, identity, backstop };
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
