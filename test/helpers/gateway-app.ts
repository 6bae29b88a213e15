// The gateway's request listener on a fixed clock, in front of an echo upstream, for supertest.
import { jwtVerify, type JWTPayload } from 'jose';
import type { Response } from 'supertest';
import { createGateway, type Gateway } from '../../src/server/index.js';
import { TEST_APP_SECRET, testConfig } from './config.js';
import { startEchoUpstream, type EchoUpstream } from './echo-upstream.js';
import { parseJwtLikeJitsi } from './jitsi-url.js';
import { captureLog, type CapturedLog } from './logs.js';

export const NOW = 1_800_000_000;
export const NAVIGATE = { 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' };

export interface GatewayApps {
  readonly upstream: EchoUpstream;
  /** The log of the app made last. */
  log(): CapturedLog;
  app(env?: Record<string, string>, now?: number): Gateway['handleRequest'];
  /** Stops the proxies of every app made so far and forgets the upstream's requests. */
  reset(): void;
  close(): Promise<void>;
}

export async function startGatewayApps(): Promise<GatewayApps> {
  const upstream = await startEchoUpstream();
  let gateways: Gateway[] = [];
  let log = captureLog();

  return {
    upstream,
    log: () => log,
    app(env = {}, now = NOW) {
      log = captureLog();
      const gateway = createGateway({
        config: testConfig({ GATEWAY_UPSTREAM_URL: upstream.url, ...env }),
        logger: log.logger,
        clock: () => now,
      });
      gateways.push(gateway);
      return gateway.handleRequest;
    },
    reset() {
      for (const gateway of gateways) gateway.proxy.close();
      gateways = [];
      upstream.requests.length = 0;
    },
    close: () => upstream.close(),
  };
}

/** The token a Location hands over, read as Jitsi reads it, verified with the test secret. */
export async function claimsIn(location: string, now = NOW): Promise<JWTPayload> {
  const token = parseJwtLikeJitsi(new URL(location, 'https://meet.example').href) ?? '';
  const key = new TextEncoder().encode(TEST_APP_SECRET);
  return (await jwtVerify(token, key, { currentDate: new Date(now * 1000) })).payload;
}

export function markerCookie(response: Response): string {
  const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const marker = cookies.find((cookie) => cookie.startsWith('jcg_marker='));
  if (!marker) throw new Error(`no marker cookie in ${JSON.stringify(cookies)}`);
  return marker.split(';')[0] as string;
}
