import { jwtVerify } from 'jose';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../../src/server/index.js';
import { TEST_APP_SECRET, testConfig } from '../../helpers/config.js';
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js';
import { readFixture } from '../../helpers/fixtures.js';
import { captureLog, type CapturedLog } from '../../helpers/logs.js';

const NOW = 1_800_000_000;
const NAVIGATE = { 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' };
const alice = readFixture('plain').headers;
const carol = readFixture('multival').headers;

let upstream: EchoUpstream;
let log: CapturedLog;
let gateways: ReturnType<typeof createGateway>[] = [];

beforeAll(async () => {
  upstream = await startEchoUpstream();
});
afterAll(async () => {
  await upstream.close();
});
afterEach(() => {
  for (const gateway of gateways) gateway.proxy.close();
  gateways = [];
  upstream.requests.length = 0;
});

function gatewayApp(env: Record<string, string> = {}, now = NOW) {
  log = captureLog();
  const gateway = createGateway({
    config: testConfig({ GATEWAY_UPSTREAM_URL: upstream.url, ...env }),
    logger: log.logger,
    clock: () => now,
  });
  gateways.push(gateway);
  return gateway.handleRequest;
}

async function tokenClaims(location: string) {
  const token = new URL(location, 'https://meet.example').searchParams.get('jwt') ?? '';
  const key = new TextEncoder().encode(TEST_APP_SECRET);
  return (await jwtVerify(token, key, { currentDate: new Date(NOW * 1000) })).payload;
}

function markerCookie(response: request.Response): string {
  const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const marker = cookies.find((cookie) => cookie.startsWith('jcg_marker='));
  if (!marker) throw new Error(`no marker cookie in ${JSON.stringify(cookies)}`);
  return marker.split(';')[0] as string;
}

describe('a holder navigating to a room page', () => {
  it('redirects once to the same path and query with a token added', async () => {
    const response = await request(gatewayApp())
      .get('/Team%20Sync?lang=de&jwt=123')
      .set({ ...alice, ...NAVIGATE });

    expect(response.status).toBe(302);
    expect(response.headers.location).toMatch(
      /^\/Team%20Sync\?lang=de&jwt=[\w-]+\.[\w-]+\.[\w-]+$/,
    );
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(upstream.requests).toHaveLength(0);

    const claims = await tokenClaims(response.headers.location as string);
    expect(claims).toMatchObject({
      iss: 'jitsi',
      aud: 'jitsi',
      sub: 'meet.jitsi',
      room: 'team%20sync',
      exp: NOW + 600,
      context: { user: { name: 'Alice Example', email: 'alice@example.org' } },
    });
  });

  it('sets a signed HttpOnly marker cookie with the redirect', async () => {
    const response = await request(gatewayApp())
      .get('/room')
      .set({ ...alice, ...NAVIGATE });
    const cookie = ([] as string[]).concat(response.headers['set-cookie'] ?? []).join('\n');
    expect(cookie).toMatch(/^jcg_marker=s%3As\.\d+\.[0-9a-f]{32}\.[^;]+; Max-Age=600; Path=\/;/m);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });

  it('passes the page with its token to Jitsi and marks the token as arrived', async () => {
    const app = gatewayApp();
    const first = await request(app)
      .get('/room')
      .set({ ...alice, ...NAVIGATE });
    const second = await request(app)
      .get(first.headers.location as string)
      .set({ ...alice, ...NAVIGATE, Cookie: markerCookie(first) });

    expect(second.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.url).toBe(first.headers.location);
    expect(markerCookie(second)).toMatch(/^jcg_marker=s%3Aa\./);
    expect(second.headers['set-cookie']).toContain('upstream=1; Path=/');
  });

  it('passes the page through when it comes back without the token it was just sent', async () => {
    const app = gatewayApp();
    const first = await request(app)
      .get('/room')
      .set({ ...alice, ...NAVIGATE });
    const looped = await request(app)
      .get('/room')
      .set({ ...alice, ...NAVIGATE, Cookie: markerCookie(first) });

    expect(looped.status).toBe(200);
    expect(upstream.requests[0]?.url).toBe('/room');
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ decision: 'pass', reason: 'loop-broken', level: 40 }),
    );
  });

  it('gives a fresh token on a reload after the token arrived', async () => {
    const app = gatewayApp();
    const first = await request(app)
      .get('/room')
      .set({ ...alice, ...NAVIGATE });
    const arrived = await request(app)
      .get(first.headers.location as string)
      .set({ ...alice, ...NAVIGATE, Cookie: markerCookie(first) });
    const reload = await request(app)
      .get('/room')
      .set({ ...alice, ...NAVIGATE, Cookie: markerCookie(arrived) });

    expect(reload.status).toBe(302);
    expect(log.lines()).toContainEqual(expect.objectContaining({ reason: 'reload' }));
  });

  it('gives a second holder a token with their own name for the same link', async () => {
    const app = gatewayApp();
    const response = await request(app)
      .get('/room')
      .set({ ...carol, ...NAVIGATE });
    const claims = await tokenClaims(response.headers.location as string);
    expect(claims.context).toMatchObject({ user: { name: 'Carol Admin' } });
  });

  it('replaces a token made for another room', async () => {
    const app = gatewayApp();
    const other = await request(app)
      .get('/other')
      .set({ ...alice, ...NAVIGATE });
    const token = new URL(other.headers.location as string, 'https://x').searchParams.get('jwt');
    const response = await request(app)
      .get(`/room?jwt=${token}`)
      .set({ ...alice, ...NAVIGATE });
    expect(response.status).toBe(302);
    expect((await tokenClaims(response.headers.location as string)).room).toBe('room');
  });

  it('stops redirecting after the backstop when the browser returns no cookie', async () => {
    const app = gatewayApp();
    const statuses: number[] = [];
    for (let visit = 0; visit < 5; visit += 1) {
      statuses.push(
        (
          await request(app)
            .get('/room')
            .set({ ...alice, ...NAVIGATE })
        ).status,
      );
    }
    expect(statuses).toEqual([302, 302, 302, 200, 200]);
  });

  it('never writes the token to the log', async () => {
    const app = gatewayApp();
    const response = await request(app)
      .get('/room')
      .set({ ...alice, ...NAVIGATE });
    const token = new URL(response.headers.location as string, 'https://x').searchParams.get('jwt');
    await request(app)
      .get(response.headers.location as string)
      .set({ ...alice, ...NAVIGATE, Cookie: markerCookie(response) });
    expect(log.text()).not.toContain(token);
    expect(log.text()).not.toContain(alice['x-ssl-client-cert']?.slice(40, 80));
  });
});

describe('requests that are not room page navigations', () => {
  it.each([
    ['a static file', '/libs/app.bundle.min.js', NAVIGATE],
    ['config.js', '/config.js', NAVIGATE],
    ['the site root', '/', NAVIGATE],
    ['a fetch of a room path', '/room', { 'Sec-Fetch-Mode': 'cors', 'Sec-Fetch-Dest': 'empty' }],
    ['a BOSH request', '/http-bind?room=x&token=abc', {}],
  ])('passes %s through without a redirect and without identity headers', async (_n, path, h) => {
    const response = await request(gatewayApp())
      .get(path)
      .set({ ...alice, ...h });
    expect(response.status).toBe(200);
    expect(upstream.requests[0]?.url).toBe(path);
    expect(
      Object.keys(upstream.requests[0]?.headers ?? {}).filter((n) => n.startsWith('x-ssl')),
    ).toEqual([]);
  });

  it('passes a POST body, Authorization and Host unchanged', async () => {
    const response = await request(gatewayApp())
      .post('/http-bind?token=abc')
      .set({ Authorization: 'Bearer xyz', Host: 'meet.example', 'Content-Type': 'text/xml' })
      .send('<body rid="1"/>');
    expect(response.status).toBe(200);
    expect(upstream.requests[0]).toMatchObject({
      method: 'POST',
      url: '/http-bind?token=abc',
      body: '<body rid="1"/>',
      headers: { authorization: 'Bearer xyz', host: 'meet.example' },
    });
  });
});

describe('guests', () => {
  it('passes a room page visit without a certificate through untouched', async () => {
    const response = await request(gatewayApp())
      .get('/room')
      .set({ ...readFixture('nocert').headers, ...NAVIGATE });
    expect(response.status).toBe(200);
    expect(upstream.requests[0]?.url).toBe('/room');
  });

  it('treats a certificate that failed verification as a guest', async () => {
    const response = await request(gatewayApp())
      .get('/room')
      .set({ ...readFixture('foreign-optional_no_ca').headers, ...NAVIGATE });
    expect(response.status).toBe(200);
    expect(log.lines()).toContainEqual(expect.objectContaining({ guest: 'verify-failed' }));
  });

  it('refuses a guest with a 403 page when guests are refused', async () => {
    const response = await request(gatewayApp({ GATEWAY_GUESTS: 'refuse' }))
      .get('/room')
      .set({ ...readFixture('nocert').headers, ...NAVIGATE });
    expect(response.status).toBe(403);
    expect(response.text).toContain('This meeting needs a client certificate.');
    expect(upstream.requests).toHaveLength(0);
  });

  it('ignores identity headers from a peer that is not a trusted proxy', async () => {
    const response = await request(gatewayApp({ GATEWAY_TRUSTED_PROXIES: '192.0.2.1' }))
      .get('/room')
      .set({
        ...alice,
        ...NAVIGATE,
        'X-Forwarded-For': '192.0.2.1',
        Forwarded: 'for=192.0.2.1;proto=https',
        'X-Real-IP': '192.0.2.1',
      });
    expect(response.status).toBe(200);
    expect(upstream.requests[0]?.headers['x-ssl-client-verify']).toBeUndefined();
    expect(upstream.requests[0]?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(upstream.requests[0]?.headers.forwarded).toBeUndefined();
    expect(upstream.requests[0]?.headers['x-real-ip']).toBeUndefined();
    expect(log.lines()).toContainEqual(expect.objectContaining({ guest: 'untrusted-peer' }));
  });
});

describe('a malformed identity', () => {
  it('refuses a holder whose subject DN cannot be read with a 400 page', async () => {
    const response = await request(gatewayApp())
      .get('/room')
      .set({ ...alice, ...NAVIGATE, 'X-SSL-Client-S-DN': 'CN=Broken\\' });
    expect(response.status).toBe(400);
    expect(response.text).toMatch(/subject DN/);
    expect(response.text).not.toMatch(/at .*\.ts/);
  });
});

describe('an upstream that is down', () => {
  it('answers with a short 502 page', async () => {
    const response = await request(gatewayApp({ GATEWAY_UPSTREAM_URL: 'http://127.0.0.1:1' })).get(
      '/libs/app.js',
    );
    expect(response.status).toBe(502);
    expect(response.text).toContain('Jitsi cannot be reached right now.');
  });
});
