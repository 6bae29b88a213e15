// The split example as shipped (deploy/nginx/jitsi-cert-gateway-split.conf): nginx sends only
// room page loads to the gateway, everything else straight to the stand-in Jitsi.
import type { IncomingMessage } from 'node:http';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/index.js';
import { makePki, type Pki } from '../helpers/certificates.js';
import { TEST_APP_SECRET, testConfig } from '../helpers/config.js';
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
const ACCEPT_JSON = { accept: 'application/json' };
const SPOOFED = { 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-s-dn': 'CN=Mallory' };

let pki: Pki;
let jitsi: StandInJitsi;
let gateway: RunningGateway;
let nginx: RunningExample;
/** Every request and websocket that reached the gateway, as `METHOD path`. */
const reachedGateway: string[] = [];

beforeAll(async () => {
  [pki, jitsi] = await Promise.all([makePki(), startStandInJitsi()]);
  gateway = await startGateway({
    config: testConfig({ GATEWAY_UPSTREAM_URL: jitsi.url, GATEWAY_TRUSTED_PROXIES: '127.0.0.1' }),
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

function navigate(path: string, options: { client?: 'alice'; cookie?: string } = {}) {
  const headers = {
    ...NAVIGATE,
    ...ACCEPT_JSON,
    ...(options.cookie && { cookie: options.cookie }),
  };
  return request(nginx, path, { client: options.client, headers });
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
    expect(first.headers.location).toMatch(/^\/Team%20Sync\?lang=de&jwt=/);
    const token = new URL(first.headers.location as string, nginx.origin).searchParams.get('jwt');
    const { payload } = await jwtVerify(token ?? '', new TextEncoder().encode(TEST_APP_SECRET));
    expect(payload).toMatchObject({
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
      headers: { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', ...ACCEPT_JSON },
    });
    expect(response.status).toBe(200);
    expect(reachedGateway).toEqual([]);
  });

  it('removes identity headers a browser sends on the way straight to Jitsi', async () => {
    const response = await request(nginx, '/libs/app.bundle.min.js', {
      headers: { ...SCRIPT, ...SPOOFED },
    });
    expect(response.status).toBe(200);
    expect(identityHeadersIn(lastSeenByJitsi())).toEqual([]);
  });

  it('passes a guest through the gateway to the room page', async () => {
    const response = await navigate('/Team%20Sync');
    expect(response.status).toBe(200);
    expect((JSON.parse(response.body) as ReceivedRequest).url).toBe('/Team%20Sync');
    expect(reachedGateway).toEqual(['GET /Team%20Sync']);
  });

  it('keeps tokens out of its access log', async () => {
    const first = await navigate('/Logged', { client: 'alice' });
    await navigate(first.headers.location as string, { client: 'alice', cookie: markerOf(first) });
    const token = new URL(first.headers.location as string, nginx.origin).searchParams.get('jwt');

    const log = await nginx.readAccessLog();
    expect(log).toContain('"GET /Logged"');
    expect(log).not.toContain(token);
  });
});
