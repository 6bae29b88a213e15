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
    tokenKey: describeTokenKey(config.token),
    cookieSecret: config.inject.cookieSecret ? 'set' : 'missing',
    logLevel: config.logLevel,
    accessLogLevel: config.server.accessLogLevel,
    publicMetrics: config.server.publicMetrics,
    shutdownGraceSeconds: config.server.shutdownGraceSeconds,
    development: config.development,
  };
}

/** The shared secret's presence with HS*, the key file with RS*; never key material. */
function describeTokenKey(token: Gateway['config']['token']): string {
  if (!token.algorithm.startsWith('HS'))
    return token.keyFile ? `key file ${token.keyFile}` : 'key file missing';

  return token.secret || token.secretFile ? 'secret set' : 'secret missing';
}
