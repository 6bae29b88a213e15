import type { Gateway } from './app.js';

/**
 * What an operator needs to check a deployment, for the startup and reload log lines. Secrets
 * appear only as "set" or "missing", never as values.
 */
export function describeGateway(
  gateway: Pick<Gateway, 'config' | 'keyId'>,
): Record<string, unknown> {
  const { config } = gateway;
  return {
    upstream: config.upstream.url,
    trustedProxies: config.identity.trustedProxies,
    guests: config.inject.guests,
    issuer: config.token.appId,
    audience: config.token.audience,
    algorithm: config.token.algorithm,
    // `null` with HS*: Prosody checks those with its shared app_secret, which has no key id.
    keyId: gateway.keyId ?? null,
    tokenKey: config.token.algorithm.startsWith('HS')
      ? config.token.secret || config.token.secretFile
        ? 'secret set'
        : 'secret missing'
      : config.token.keyFile
        ? `key file ${config.token.keyFile}`
        : 'key file missing',
    cookieSecret: config.inject.cookieSecret ? 'set' : 'missing',
    logLevel: config.logLevel,
    accessLogLevel: config.server.accessLogLevel,
    publicMetrics: config.server.publicMetrics,
    shutdownGraceSeconds: config.server.shutdownGraceSeconds,
    development: config.development,
  };
}
