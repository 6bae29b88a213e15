// deploy/nginx/jitsi-cert-gateway.conf as an operator would install it, with only its example
// values replaced, in front of the real gateway and a stand-in Jitsi.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { jwtVerify, type JWTPayload } from 'jose';
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
import { captureLog } from '../helpers/logs.js';
import {
  readAccessLogWhen,
  startNginxExample,
  type RunningNginxExample,
} from '../helpers/nginx-example.js';
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
let nginx: RunningNginxExample;

beforeAll(async () => {
  [pki, jitsi] = await Promise.all([makePki(), startStandInJitsi()]);
  gateway = await startGateway({
    config: testConfig({ GATEWAY_UPSTREAM_URL: jitsi.url }),
    logger: captureLog().logger,
  });
  nginx = await startNginxExample({ pki, gatewayPort: gateway.port });
});

afterAll(async () => {
  await nginx?.stop();
  await gateway?.close();
  await jitsi?.close();
  await pki?.cleanup();
});

interface Visit {
  readonly client?: ClientName;
  readonly cookie?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

function navigate(path: string, visit: Visit = {}): Promise<HttpsResponse> {
  const cookie = visit.cookie ? { cookie: visit.cookie } : {};
  const headers = { ...NAVIGATE, ...ACCEPT_JSON, ...cookie, ...visit.headers };
  return request(nginx, path, { client: visit.client, headers });
}

function markerOf(response: HttpsResponse): string {
  const marker = (response.headers['set-cookie'] ?? []).find((c) => c.startsWith('jcg_marker='));
  if (!marker) throw new Error('the response set no marker cookie');
  return marker.split(';')[0] as string;
}

function tokenIn(response: HttpsResponse): string {
  const location = response.headers.location ?? '';
  return new URL(location, nginx.origin).searchParams.get('jwt') ?? '';
}

async function claimsOf(response: HttpsResponse): Promise<JWTPayload> {
  const secret = new TextEncoder().encode(TEST_APP_SECRET);
  return (await jwtVerify(tokenIn(response), secret)).payload;
}

function seenByJitsi(response: HttpsResponse): ReceivedRequest {
  return JSON.parse(response.body) as ReceivedRequest;
}

function identityHeadersIn(seen: { headers: IncomingHttpHeaders }): string[] {
  return Object.keys(seen.headers).filter((name) => name.startsWith('x-ssl-'));
}

/** One plain HTTP request to the example's port 80 server, not following redirects. */
function plainHttpGet(path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
    const outgoing = httpRequest(
      { host: '127.0.0.1', port: nginx.httpPort, path, headers, agent: false },
      (response) => {
        response.resume();
        response.once('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers }),
        );
      },
    );
    outgoing.once('error', reject);
    outgoing.end();
  });
}

describe('the nginx example in front of the gateway', () => {
  it("redirects a holder's first visit once, with a token for that room in their name", async () => {
    const first = await navigate('/Team%20Sync?lang=de', { client: 'alice' });

    expect(first.status).toBe(302);
    expect(first.headers.location).toMatch(/^\/Team%20Sync\?lang=de&jwt=[^&]+$/);
    expect(await claimsOf(first)).toMatchObject({
      room: 'team%20sync',
      context: { user: { name: 'Alice Example', email: 'alice@example.org' } },
    });
  });

  // A room URL plus a token outgrows nginx's default proxy_buffer_size (one page, 4k or 8k),
  // which nginx answers with 502 "upstream sent too big header".
  it('redirects a holder once with a token for a room whose path is 2,000 characters', async () => {
    const path = `/${'Long-Room-'.repeat(200)}`;
    const first = await navigate(path, { client: 'alice' });

    expect(first.status).toBe(302);
    expect(first.headers.location).toMatch(new RegExp(`^${path}\\?jwt=[^&]+$`));
    expect(await claimsOf(first)).toMatchObject({ room: path.slice(1).toLowerCase() });

    const page = await navigate(first.headers.location as string, {
      client: 'alice',
      cookie: markerOf(first),
    });
    expect(page.status).toBe(200);
    expect(seenByJitsi(page).url).toBe(first.headers.location);
  });

  it('brings the holder to Jitsi with the token and without identity headers', async () => {
    const first = await navigate('/Team%20Sync', { client: 'alice' });
    const page = await navigate(first.headers.location as string, {
      client: 'alice',
      cookie: markerOf(first),
    });

    expect(page.status).toBe(200);
    const seen = seenByJitsi(page);
    expect(seen.url).toBe(first.headers.location);
    expect(identityHeadersIn(seen)).toEqual([]);
    expect(seen.headers['x-forwarded-proto']).toBe('https');
  });

  it('passes a guest without a certificate straight to Jitsi', async () => {
    const page = await navigate('/Team%20Sync');

    expect(page.status).toBe(200);
    const seen = seenByJitsi(page);
    expect(seen.url).toBe('/Team%20Sync');
    expect(identityHeadersIn(seen)).toEqual([]);
  });

  it('treats a browser that sends identity headers of its own as the guest it is', async () => {
    const page = await navigate('/Team%20Sync', {
      headers: {
        'x-ssl-client-verify': 'SUCCESS',
        'x-ssl-client-s-dn': 'CN=Mallory Spoofer,O=Example Org,C=DE',
      },
    });

    expect(page.status).toBe(200);
    expect(seenByJitsi(page).url).toBe('/Team%20Sync');
  });

  it('names a holder from the certificate, not from a subject DN the browser sends', async () => {
    const first = await navigate('/Team%20Sync', {
      client: 'bob',
      headers: { 'x-ssl-client-s-dn': 'CN=Mallory Spoofer,O=Example Org,C=DE' },
    });

    expect(first.status).toBe(302);
    expect(await claimsOf(first)).toMatchObject({ context: { user: { name: 'Bob Builder' } } });
  });

  it('removes forwarding facts the browser claims about itself', async () => {
    const page = await navigate('/Team%20Sync', {
      headers: {
        'x-forwarded-host': 'evil.example',
        'x-forwarded-for': '203.0.113.9',
        forwarded: 'for=203.0.113.9;host=evil.example',
      },
    });

    const seen = seenByJitsi(page);
    expect(seen.headers['x-forwarded-host']).toBeUndefined();
    expect(seen.headers.forwarded).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).not.toContain('203.0.113.9');
  });

  it('exchanges websocket messages with Jitsi', async () => {
    const socket = await openWebSocket(
      websocketUrl(nginx, '/xmpp-websocket?room=team%20sync&token=abc'),
      await readTlsMaterial(pki, 'alice'),
    );
    try {
      const upgrade = JSON.parse(await socket.nextMessage()) as ReceivedRequest;
      expect(upgrade.url).toBe('/xmpp-websocket?room=team%20sync&token=abc');
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
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body: '<body rid="1"/>',
    });

    expect(response.status).toBe(200);
    expect(response.body).toBe('<body rid="1"/>');
  });

  it('writes paths to its access log, never a token', async () => {
    const first = await navigate('/Log%20Check', { client: 'alice' });
    await navigate(first.headers.location as string, { client: 'alice', cookie: markerOf(first) });
    await plainHttpGet('/Log%20Check?jwt=sent-over-plain-http', {});
    const socket = await openWebSocket(
      websocketUrl(nginx, '/xmpp-websocket?room=log%20check&token=websocket-token-value'),
      await readTlsMaterial(pki, 'alice'),
    );
    await socket.close();

    // Counted in any format, so that a format that leaks fails the assertions, not the wait.
    const log = await readAccessLogWhen(nginx, (text) => {
      const visits = text.split('\n').filter((line) => /\/Log(?: |%20)Check/.test(line));
      return visits.length >= 3 && text.includes('/xmpp-websocket');
    });
    expect(log).not.toContain('jwt=');
    expect(log).not.toContain('token=');
    expect(log).not.toContain(tokenIn(first));
    expect(log).not.toContain('websocket-token-value');
    expect(log).toContain('"GET /Log Check HTTP/1.1" 302');
    expect(log).toContain('"GET /Log Check HTTP/1.1" 200');
    expect(log).toContain('"GET /Log Check HTTP/1.1" 301');
  });

  it("sends plain HTTP visitors to HTTPS on the site's own name, whatever Host they send", async () => {
    const response = await plainHttpGet('/Team%20Sync?lang=de', { host: 'evil.example' });

    expect(response.status).toBe(301);
    expect(response.headers.location).toBe('https://meet.example.org/Team%20Sync?lang=de');
  });
});
