import express, { type Express } from 'express';
import type { Config } from '../config/index.js';
import { createIdentityReader, type IdentityReader } from '../identity/index.js';
import {
  createBackstop,
  createInjectMiddleware,
  createTokenEndpoint,
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
  app: Express;
  proxy: UpstreamProxy;
  identity: IdentityReader;
  backstop: Backstop;
}

const systemClock = (): number => Math.floor(Date.now() / 1000);

/**
 * The gateway's request pipeline, in its fixed order:
 * 0. the token endpoint for Jitsi's `tokenAuthUrl` answers its own path;
 * 1. room page navigations are read and may be redirected or refused (inject);
 * 2. everything else, and every passed navigation, goes to Jitsi (proxy);
 * 3. errors become short pages.
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
  const injectDependencies = {
    config,
    logger,
    identity,
    signer,
    backstop,
    clock: options.clock ?? systemClock,
  };
  app.use(createTokenEndpoint(injectDependencies));
  app.use(createInjectMiddleware(injectDependencies));
  app.use(proxy.handle);
  app.use(createErrorHandler(logger));

  return { app, proxy, identity, backstop };
}

function isIdentityHeaderFor(names: readonly string[]): (name: string) => boolean {
  const set = new Set(names.map((name) => name.toLowerCase()));
  return (name) => {
    const lower = name.toLowerCase();
    return set.has(lower) || lower.startsWith('x-ssl-client-');
  };
}
