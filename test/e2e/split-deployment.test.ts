// The split example as shipped (deploy/nginx/jitsi-cert-gateway-split.conf): nginx sends only
// room page loads and the gateway's own paths to the gateway, everything else straight to the
// stand-in Jitsi. The gateway signs with RS256, so that Prosody's key fetches are real.
import { createHash, generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  importSPKI,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { identityHeaderNames } from '../../src/identity/headers.js';
import { startGateway, type RunningGateway } from '../../src/server/index.js';
import { makePki, type Pki } from '../helpers/certificates.js';
import { testConfig } from '../helpers/config.js';
import {
  openWebSocket,
  readTlsMaterial,
  request,
  websocketUrl,
  type HttpsResponse,
} from '../helpers/https-client.js';
import { captureLog } from '../helpers/logs.js';
import { startNginxExample, type RunningExample } from '../helpers/nginx-split-example.js';
import {
  startStandInJitsi,
  type ReceivedRequest,
  type StandInJitsi,
} from '../helpers/stand-in-jitsi.js';

const EXAMPLE = 'deploy/nginx/jitsi-cert-gateway-split.conf';
const NAVIGATE = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const SCRIPT = { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' };
const FETCH = { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' };
const ACCEPT_JSON = { accept: 'application/json' };
/** A fingerprint no test certificate has; a rule makes its holder a moderator. */
const FORGED_FINGERPRINT = 'aa'.repeat(20);
const defaults = configSchema.parse({});
/** Every identity header the gateway reads, as a browser could send them all. */
const SPOOFED: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(identityHeaderNames(defaults.identity)).map((name) => [name, 'spoofed']),
);
const SPOOFED_HOLDER = {
  ...SPOOFED,
  'x-ssl-client-verify': 'SUCCESS',
  'x-ssl-client-s-dn': 'CN=Mallory',
  'x-ssl-client-fingerprint': FORGED_FINGERPRINT,
};

let pki: Pki;
let jitsi: StandInJitsi;
let gateway: RunningGateway;
let nginx: RunningExample;
let publicKey: KeyObject;
/** Every request and websocket that reached the gateway, as `METHOD path`. */
const reachedGateway: string[] = [];

beforeAll(async () => {
  [pki, jitsi] = await Promise.all([makePki(), startStandInJitsi()]);
  const keys = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  publicKey = keys.publicKey;
  const keyFile = join(pki.dir, 'gateway-key.pem');
  await writeFile(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const bob = new X509Certificate(await readFile(pki.clients.bob.cert));
  const rules = [
    {
      when: { fingerprint: [FORGED_FINGERPRINT, bob.fingerprint] },
      set: { moderator: true },
    },
  ];
  gateway = await startGateway({
    config: testConfig({
      GATEWAY_UPSTREAM_URL: jitsi.url,
      GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
      GATEWAY_TOKEN_ALGORITHM: 'RS256',
      GATEWAY_TOKEN_KEY_FILE: keyFile,
      GATEWAY_RULES: JSON.stringify(rules),
    }),
    logger: captureLog().logger,
  });
  const record = (req: IncomingMessage) => reachedGateway.push(`${req.method} ${req.url}`);
  gateway.server.on('request', record);
  gateway.server.on('upgrade', record);
  nginx = await startNginxExample({
    pki,
    example: EXAMPLE,
    upstreams: { '127.0.0.1:8080': gateway.port, '127.0.0.1:8000': jitsi.port },
  });
});

afterAll(async () => {
  await nginx?.stop();
  await gateway?.close();
  await jitsi?.close();
  await pki?.cleanup();
});

beforeEach(() => {
  reachedGateway.length = 0;
});

interface Visit {
  readonly client?: 'alice' | 'bob';
  readonly cookie?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

function navigate(path: string, options: Visit = {}) {
  const headers = {
    ...NAVIGATE,
    ...ACCEPT_JSON,
    ...(options.cookie && { cookie: options.cookie }),
    ...options.headers,
  };
  return request(nginx, path, { client: options.client, headers });
}

function tokenIn(response: HttpsResponse): string {
  const location = response.headers.location ?? '';
  return new URL(location, nginx.origin).searchParams.get('jwt') ?? '';
}

async function claimsOf(response: HttpsResponse): Promise<JWTPayload> {
  return (await jwtVerify(tokenIn(response), publicKey)).payload;
}

function markerOf(response: HttpsResponse): string {
  const marker = (response.headers['set-cookie'] ?? []).find((c) => c.startsWith('jcg_marker='));
  if (!marker) throw new Error('the response set no marker cookie');
  return marker.split(';')[0] as string;
}

function lastSeenByJitsi(): ReceivedRequest {
  const seen = jitsi.requests[jitsi.requests.length - 1];
  if (!seen) throw new Error('nothing reached the stand-in Jitsi');
  return seen;
}

function identityHeadersIn(seen: { headers: object }): string[] {
  return Object.keys(seen.headers).filter((name) => name.startsWith('x-ssl-'));
}

describe('the split nginx example', () => {
  it("redirects a holder's first visit to a room page with a token, through the gateway", async () => {
    const first = await navigate('/Team%20Sync?lang=de', { client: 'alice' });

    expect(first.status).toBe(302);
    expect(first.headers.location).toMatch(/^\/Team%20Sync\?lang=de&jwt=[^&]+$/);
    expect(await claimsOf(first)).toMatchObject({
      room: 'team%20sync',
      context: { user: { name: 'Alice Example', email: 'alice@example.org' } },
    });
    expect(reachedGateway).toEqual(['GET /Team%20Sync?lang=de']);
  });

  it('lands on Jitsi with the token after the redirect, without identity headers', async () => {
    const first = await navigate('/Landing', { client: 'alice' });
    const page = await navigate(first.headers.location as string, {
      client: 'alice',
      cookie: markerOf(first),
    });

    expect(page.status).toBe(200);
    expect(lastSeenByJitsi().url).toBe(first.headers.location);
    expect(identityHeadersIn(lastSeenByJitsi())).toEqual([]);
    expect(reachedGateway).toHaveLength(2);
  });

  it('redirects a holder once with a token for a room whose path is 2,000 characters', async () => {
    const path = `/${'Long-Room-'.repeat(200)}`;
    const first = await navigate(path, { client: 'alice' });

    expect(first.status).toBe(302);
    expect(await claimsOf(first)).toMatchObject({ room: path.slice(1).toLowerCase() });
  });

  it('passes a tenant room page through the gateway too', async () => {
    const first = await navigate('/team/Weekly', { client: 'alice' });
    expect(first.status).toBe(302);
    expect(reachedGateway).toEqual(['GET /team/Weekly']);
  });

  it('serves static files and config.js straight from Jitsi, bypassing the gateway', async () => {
    const [script, config, file] = await Promise.all([
      request(nginx, '/libs/app.bundle.min.js', { client: 'alice', headers: SCRIPT }),
      request(nginx, '/config.js', { client: 'alice', headers: SCRIPT }),
      // Without Sec-Fetch headers, as curl sends it: the folder alone keeps it off the gateway.
      request(nginx, '/static/100k.bin', { client: 'alice' }),
    ]);

    expect([script.status, config.status, file.status]).toEqual([200, 200, 200]);
    expect(config.body).toContain("domain: 'meet.jitsi'");
    expect(file.rawBody.length).toBe(100 * 1024);
    expect(reachedGateway).toEqual([]);
  });

  it('passes BOSH straight to Jitsi, bypassing the gateway', async () => {
    const response = await request(nginx, '/http-bind?hold=50', {
      client: 'alice',
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: '<body rid="1"/>',
    });

    expect(response.status).toBe(200);
    expect(response.body).toContain('<body rid="1"/>');
    expect(reachedGateway).toEqual([]);
  });

  it('passes websockets straight to Jitsi, bypassing the gateway', async () => {
    const tls = await readTlsMaterial(pki, 'alice');
    const sockets = await Promise.all(
      ['/xmpp-websocket?room=x', '/team/xmpp-websocket', '/colibri-ws/jvb1/ep?pwd=1'].map((path) =>
        openWebSocket(websocketUrl(nginx, path), tls),
      ),
    );
    try {
      for (const socket of sockets) {
        const upgrade = JSON.parse(await socket.nextMessage()) as { headers: object };
        expect(identityHeadersIn(upgrade)).toEqual([]);
        socket.socket.send('<presence/>');
        expect(await socket.nextMessage()).toBe('<presence/>');
      }
    } finally {
      await Promise.all(sockets.map((socket) => socket.close()));
    }
    expect(reachedGateway).toEqual([]);
  });

  it('sends a fetch of a room path straight to Jitsi, bypassing the gateway', async () => {
    const response = await request(nginx, '/Team%20Sync', {
      client: 'alice',
      headers: { ...FETCH, ...ACCEPT_JSON },
    });
    expect(response.status).toBe(200);
    expect(reachedGateway).toEqual([]);
  });

  it('removes identity headers a browser sends on the way straight to Jitsi', async () => {
    const file = await request(nginx, '/libs/app.bundle.min.js', {
      client: 'alice',
      headers: { ...SCRIPT, ...SPOOFED_HOLDER },
    });
    expect(file.status).toBe(200);
    expect(identityHeadersIn(lastSeenByJitsi())).toEqual([]);

    const bosh = await request(nginx, '/http-bind', {
      client: 'alice',
      method: 'POST',
      headers: { 'content-type': 'text/xml', ...SPOOFED_HOLDER },
      body: '<body rid="2"/>',
    });
    expect(bosh.status).toBe(200);
    expect(identityHeadersIn(lastSeenByJitsi())).toEqual([]);

    const tls = await readTlsMaterial(pki, 'alice');
    const socket = await openWebSocket(websocketUrl(nginx, '/xmpp-websocket?room=x'), {
      ...tls,
      headers: SPOOFED_HOLDER,
    });
    try {
      const upgrade = JSON.parse(await socket.nextMessage()) as { headers: object };
      expect(identityHeadersIn(upgrade)).toEqual([]);
    } finally {
      await socket.close();
    }
    expect(reachedGateway).toEqual([]);
  });

  it('removes identity headers a browser sends on the way through the gateway', async () => {
    const response = await navigate('/Team%20Sync', { headers: SPOOFED_HOLDER });

    expect(response.status).toBe(200);
    const seen = JSON.parse(response.body) as ReceivedRequest;
    expect(seen.url).toBe('/Team%20Sync');
    expect(identityHeadersIn(seen)).toEqual([]);
    expect(reachedGateway).toEqual(['GET /Team%20Sync']);
  });

  it("reads the fingerprint of the holder's certificate, never one the browser sends", async () => {
    const forged = await navigate('/Fingerprints', {
      client: 'alice',
      headers: { 'x-ssl-client-fingerprint': FORGED_FINGERPRINT },
    });
    const listed = await navigate('/Fingerprints', { client: 'bob' });

    expect([forged.status, listed.status]).toEqual([302, 302]);
    const claims = await claimsOf(forged);
    expect(claims).toMatchObject({ context: { user: { name: 'Alice Example' } } });
    expect(claims).not.toHaveProperty('context.user.moderator');
    expect(await claimsOf(listed)).toMatchObject({ context: { user: { moderator: true } } });
  });

  it('passes a guest through the gateway to the room page', async () => {
    const response = await navigate('/Team%20Sync');
    expect(response.status).toBe(200);
    expect((JSON.parse(response.body) as ReceivedRequest).url).toBe('/Team%20Sync');
    expect(reachedGateway).toEqual(['GET /Team%20Sync']);
  });

  it("serves the gateway's public keys as Prosody fetches them, and they verify its tokens", async () => {
    const first = await navigate('/Key%20Check', { client: 'alice' });
    const { kid } = decodeProtectedHeader(tokenIn(first));
    const pemName = createHash('sha256')
      .update(kid ?? '')
      .digest('hex');
    const jitsiRequests = jitsi.requests.length;

    // As Prosody's asap_key_server fetches them: no certificate, no Sec-Fetch headers.
    const [jwks, pem] = await Promise.all([
      request(nginx, '/_gateway/keys/jwks.json'),
      request(nginx, `/_gateway/keys/${pemName}.pem`),
    ]);

    expect([jwks.status, pem.status]).toEqual([200, 200]);
    const keySet = createLocalJWKSet(JSON.parse(jwks.body) as JSONWebKeySet);
    await expect(jwtVerify(tokenIn(first), keySet)).resolves.toBeDefined();
    const served = await importSPKI(pem.body, 'RS256');
    await expect(jwtVerify(tokenIn(first), served)).resolves.toBeDefined();
    expect(reachedGateway).toContain('GET /_gateway/keys/jwks.json');
    expect(reachedGateway).toContain(`GET /_gateway/keys/${pemName}.pem`);
    expect(jitsi.requests).toHaveLength(jitsiRequests);
  });

  it('sends the token endpoint and health checks to the gateway, never to Jitsi', async () => {
    const jitsiRequests = jitsi.requests.length;
    const [endpoint, health] = await Promise.all([
      navigate('/_gateway/token-auth?room=Team%20Sync', { client: 'alice' }),
      // A fetch, as from a status page: nginx sends no fetch of a room path to the gateway.
      request(nginx, '/_gateway/healthz', { headers: FETCH }),
    ]);

    expect(endpoint.status).toBe(302);
    expect(await claimsOf(endpoint)).toMatchObject({ room: 'team%20sync' });
    expect([health.status, health.body]).toEqual([200, 'ok\n']);
    expect(reachedGateway.sort()).toEqual([
      'GET /_gateway/healthz',
      'GET /_gateway/token-auth?room=Team%20Sync',
    ]);
    expect(jitsi.requests).toHaveLength(jitsiRequests);
  });

  it('keeps tokens out of its access log', async () => {
    const first = await navigate('/Logged', { client: 'alice' });
    await navigate(first.headers.location as string, { client: 'alice', cookie: markerOf(first) });

    const log = await nginx.readAccessLog();
    expect(log).toContain('"GET /Logged"');
    expect(log).not.toContain(tokenIn(first));
  });
});
