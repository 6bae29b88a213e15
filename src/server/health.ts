import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TokenSigner } from '../token/index.js';

/** `ok`, or a short code saying what failed (an errno code such as `ECONNREFUSED`). */
export type CheckResult = string;

export interface Readiness {
  ready: boolean;
  /** Never a secret or a URL, so that the report can be shown to anyone who asks. */
  checks: { config: CheckResult; keys: CheckResult; upstream: CheckResult; shutdown: CheckResult };
}

export interface Health {
  /** Whether the gateway should get traffic: checks are cached for `cacheSeconds`. */
  readiness(): Promise<Readiness>;
}

export interface HealthOptions {
  upstreamUrl: string;
  signer: TokenSigner;
  isDraining: () => boolean;
  cacheSeconds?: number;
  connectTimeoutSeconds?: number;
}

/**
 * Readiness: the config was loaded (a gateway exists only for a valid one), the signing key
 * signs and verifies a probe token, and a TCP connection to the upstream opens. The checks are
 * shared by concurrent probes and cached briefly, so that probes cannot turn into a flood of
 * connections to Jitsi.
 */
export function createHealth(options: HealthOptions): Health {
  const cacheMs = (options.cacheSeconds ?? 2) * 1000;
  const timeoutMs = (options.connectTimeoutSeconds ?? 1) * 1000;
  let cached:
    { at: number; checks: Promise<Pick<Readiness['checks'], 'keys' | 'upstream'>> } | undefined;

  const runChecks = async () => {
    const [keys, upstream] = await Promise.all([
      checkKeys(options.signer),
      checkUpstream(options.upstreamUrl, timeoutMs),
    ]);
    return { keys, upstream };
  };

  return {
    async readiness() {
      const now = performance.now();
      if (cached === undefined || now - cached.at >= cacheMs) {
        cached = { at: now, checks: runChecks() };
      }
      const checks = {
        config: 'ok',
        ...(await cached.checks),
        shutdown: options.isDraining() ? 'draining' : 'ok',
      };
      return { ready: Object.values(checks).every((check) => check === 'ok'), checks };
    },
  };
}

async function checkKeys(signer: TokenSigner): Promise<CheckResult> {
  const now = Math.floor(Date.now() / 1000);
  const probe = {
    iss: 'readiness-probe',
    aud: 'readiness-probe',
    sub: 'readiness-probe',
    room: 'readiness-probe',
    iat: now,
    nbf: now,
    exp: now + 60,
    context: { user: { id: 'readiness-probe', name: 'readiness probe' } },
  };
  try {
    const payload = await signer.readSigned(await signer.sign(probe));
    return payload?.room === probe.room ? 'ok' : 'KEY_UNUSABLE';
  } catch {
    return 'KEY_UNUSABLE';
  }
}

/** A TCP connect is enough: it proves the address resolves and something listens there. */
function checkUpstream(url: string, timeoutMs: number): Promise<CheckResult> {
  const target = new URL(url);
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const host = target.hostname.replace(/^\[|\]$/g, '');

  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve('UPSTREAM_TIMEOUT');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('ok');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(error.code ?? 'UPSTREAM_UNREACHABLE');
    });
  });
}
