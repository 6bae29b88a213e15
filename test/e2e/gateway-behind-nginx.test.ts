// The whole chain as it runs in production: a browser-like client with a real certificate,
// nginx terminating TLS, the gateway, and a stand-in Jitsi web server.
import { request as httpRequest } from 'node:http';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/index.js';
import { makePki, type ClientName, type Pki } from '../helpers/certificates.js';
import { TEST_APP_SECRET, testConfig } from '../helpers/config.js';
import {
  openWebSocket,
  readTlsMaterial,
  request,
  websocketUrl,
  type HttpsResponse,
} from '../helpers/https-client.js';
import { captureLog, type CapturedLog } from '../helpers/logs.js';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';
import {
  startStandInJitsi,
  type ReceivedRequest,
  type StandInJitsi,
} from '../helpers/stand-in-jitsi.js';

const NAVIGATE = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const ACCEPT_JSON = { accept: 'application/json' };

let pki: Pki;
let jitsi: StandInJitsi;
let gateway: RunningGateway;
let nginx: RunningNginx;
let nginxNoCa: RunningNginx;
let log: CapturedLog;

beforeAll(async () => {
  [pki, jitsi] = await Promise.all([makePki(), startStandInJitsi()]);
  log = captureLog();
  // Only nginx's address is trusted, so that a second loopback address can play an outsider.
  gateway = await startGateway({
    config: testConfig({ GATEWAY_UPSTREAM_URL: jitsi.url, GATEWAY_TRUSTED_PROXIES: '127.0.0.1' }),
    logger: log.logger,
  });
  [nginx, nginxNoCa] = await Promise.all([
    startNginx({ pki, gatewayPort: gateway.port, verifyClient: 'optional' }),
    startNginx({ pki, gatewayPort: gateway.port, verifyClient: 'optional_no_ca' }),
  ]);
});

afterAll(async () => {
  await Promise.all([nginx?.stop(), nginxNoCa?.stop()]);
  await gateway?.close();
  await jitsi?.close();
  await pki?.cleanup();
});

function navigate(path: string, client?: ClientName, cookie?: string): Promise<HttpsResponse> {
  const headers = { ...NAVIGATE, ...ACCEPT_JSON, ...(cookie ? { cookie } : {}) };
  return request(nginx, path, { client, headers });
}

function markerOf(response: HttpsResponse): string {
  const marker = (response.headers['set-cookie'] ?? []).find((c) => c.startsWith('jcg_marker='));
  if (!marker) throw new Error('the response set no marker cookie');
  return marker.split(';')[0] as string;
}

async function claimsIn(location: string) {
  const token = new URL(location, nginx.origin).searchParams.get('jwt') ?? '';
  const { payload } = await jwtVerify(token, new TextEncoder().encode(TEST_APP_SECRET));
  return payload;
}

function identityHeadersIn(seen: ReceivedRequest): string[] {
  return Object.keys(seen.headers).filter((name) => name.startsWith('x-ssl-'));
}

describe('a certificate holder behind nginx', () => {
  it('is redirected once to the same link with a token in their name', async () => {
    const first = await navigate('/Team%20Sync?lang=de', 'alice');

    expect(first.status).toBe(302);
    expect(first.headers.location).toMatch(/^\/Team%20Sync\?lang=de&jwt=/);
    expect(await claimsIn(first.headers.location as string)).toMatchObject({
      room: 'team%20sync',
      sub: 'meet.jitsi',
      context: { user: { name: 'Alice Example', email: 'alice@example.org' } },
    });
  });

  it('lands on Jitsi with the token after following the redirect, without identity headers', async () => {
    const first = await navigate('/Team%20Sync', 'alice');
    const page = await navigate(first.headers.location as string, 'alice', markerOf(first));

    expect(page.status).toBe(200);
    const seen = JSON.parse(page.body) as ReceivedRequest;
    expect(seen.url).toBe(first.headers.location);
    expect(identityHeadersIn(seen)).toEqual([]);
    expect(seen.headers['x-forwarded-proto']).toBe('https');
  });

  it('stops after one redirect when the token is stripped on the way', async () => {
    const first = await navigate('/Stripped', 'alice');
    const again = await navigate('/Stripped', 'alice', markerOf(first));

    expect(again.status).toBe(200);
    expect((JSON.parse(again.body) as ReceivedRequest).url).toBe('/Stripped');
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ reason: 'loop-broken', room: 'stripped' }),
    );
  });

  it('gets a new token on a reload after the token arrived', async () => {
    const first = await navigate('/Reloaded', 'alice');
    const page = await navigate(first.headers.location as string, 'alice', markerOf(first));
    const reload = await navigate('/Reloaded', 'alice', markerOf(page));

    expect(reload.status).toBe(302);
    expect(await claimsIn(reload.headers.location as string)).toMatchObject({ room: 'reloaded' });
  });

  it('gives a second holder opening the same plain link a token with their own name', async () => {
    const [alice, bob, jose] = await Promise.all([
      navigate('/Shared', 'alice'),
      navigate('/Shared', 'bob'),
      navigate('/Shared', 'utf8'),
    ]);
    const names = await Promise.all(
      [alice, bob, jose].map(async (r) => (await claimsIn(r.headers.location as string)).context),
    );
    expect(names).toEqual([
      expect.objectContaining({ user: expect.objectContaining({ name: 'Alice Example' }) }),
      expect.objectContaining({ user: expect.objectContaining({ name: 'Bob Builder' }) }),
      expect.objectContaining({ user: expect.objectContaining({ name: 'José Müller-Łukasz' }) }),
    ]);
  });

  it('exchanges websocket messages with Jitsi through the whole chain', async () => {
    const socket = await openWebSocket(
      websocketUrl(nginx, '/xmpp-websocket?room=x&token=abc'),
      await readTlsMaterial(pki, 'alice'),
    );
    try {
      const upgrade = JSON.parse(await socket.nextMessage()) as ReceivedRequest;
      expect(upgrade.url).toBe('/xmpp-websocket?room=x&token=abc');
      expect(identityHeadersIn(upgrade)).toEqual([]);
      socket.socket.send('<presence/>');
      expect(await socket.nextMessage()).toBe('<presence/>');
    } finally {
      await socket.close();
    }
  });

  it('passes a held BOSH request through and returns its body', async () => {
    const response = await request(nginx, '/http-bind?hold=200', {
      client: 'alice',
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: '<body rid="1"/>',
    });
    expect(response.status).toBe(200);
    expect(response.body).toContain('<body rid="1"/>');
  });

  it('passes static files through without a redirect', async () => {
    const response = await navigate('/config.js', 'alice');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/javascript/);
  });

  it('never writes a token to the log', async () => {
    const first = await navigate('/Logged', 'alice');
    await navigate(first.headers.location as string, 'alice', markerOf(first));
    const token = new URL(first.headers.location as string, nginx.origin).searchParams.get('jwt');
    expect(log.text()).not.toContain(token);
  });
});

describe('visitors without a verified certificate', () => {
  it('passes a guest through to Jitsi without a redirect', async () => {
    const response = await navigate('/Team%20Sync');
    expect(response.status).toBe(200);
    expect((JSON.parse(response.body) as ReceivedRequest).url).toBe('/Team%20Sync');
  });

  it('passes a certificate that failed verification as a guest', async () => {
    const response = await request(nginxNoCa, '/Team%20Sync', {
      client: 'foreign',
      headers: { ...NAVIGATE, ...ACCEPT_JSON },
    });
    expect(response.status).toBe(200);
    expect(identityHeadersIn(JSON.parse(response.body) as ReceivedRequest)).toEqual([]);
    expect(log.lines()).toContainEqual(expect.objectContaining({ guest: 'verify-failed' }));
  });

  it('ignores and strips identity headers sent straight to the gateway by an outsider', async () => {
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: gateway.port,
          localAddress: '127.0.0.2',
          path: '/Team%20Sync',
          headers: {
            ...NAVIGATE,
            ...ACCEPT_JSON,
            'x-ssl-client-verify': 'SUCCESS',
            'x-ssl-client-s-dn': 'CN=Mallory',
          },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });

    expect(response.status).toBe(200);
    const seen = JSON.parse(response.body) as ReceivedRequest;
    expect(identityHeadersIn(seen)).toEqual([]);
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.2');
    expect(log.lines()).toContainEqual(expect.objectContaining({ guest: 'untrusted-peer' }));
  });
});
