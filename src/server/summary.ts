import type { Config } from '../config/index.js';

/**
 * What an operator needs to check a deployment, for the startup and reload log lines. Secrets
 * appear only as "set" or "missing", never as values.
 */
export function describeConfig(config: Readonly<Config>): Record<string, unknown> {
  return {
    upstream: config.upstream.url,
    trustedProxies: config.identity.trustedProxies,
    guests: config.inject.guests,
    issuer: config.token.appId,
    audience: config.token.audience,
    algorithm: 'HS256',
    // HS256 tokens are checked with Prosody's shared app_secret, which has no key id.
    keyId: null,
    tokenSecret: config.token.secret || config.token.secretFile ? 'set' : 'missing',
    cookieSecret: config.inject.cookieSecret ? 'set' : 'missing',
    logLevel: config.logLevel,
    accessLogLevel: config.server.accessLogLevel,
    publicMetrics: config.server.publicMetrics,
    shutdownGraceSeconds: config.server.shutdownGraceSeconds,
    development: config.development,
  };
}
