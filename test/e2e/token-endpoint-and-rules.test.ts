// The token endpoint and the rules through the whole chain: real certificates, nginx, the
// gateway, and a stand-in Jitsi.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/index.js';
import { makePki, type ClientName, type Pki } from '../helpers/certificates.js';
import { TEST_APP_SECRET, testConfig } from '../helpers/config.js';
import { request, type HttpsResponse } from '../helpers/https-client.js';
import { captureLog, type CapturedLog } from '../helpers/logs.js';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';
import {
  startStandInJitsi,
  type ReceivedRequest,
  type StandInJitsi,
} from '../helpers/stand-in-jitsi.js';

const NAVIGATE = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const ACCEPT_JSON = { accept: 'application/json' };
const ENDPOINT = '/_gateway/token-auth';

let pki: Pki;
let jitsi: StandInJitsi;
let gateway: RunningGateway;
let nginx: RunningNginx;
let log: CapturedLog;

beforeAll(async () => {
  [pki, jitsi] = await Promise.all([makePki(), startStandInJitsi()]);
  // Bob's certificate is on the local block list, by the serial openssl gave it.
  const bob = new X509Certificate(await readFile(pki.clients.bob.cert));
  const rules = [
    { when: { serial: [bob.serialNumber] }, refuse: 'this certificate has been blocked' },
    { when: { subject: { OU: 'Staff' } }, set: { group: 'staff', moderator: true } },
  ];
  log = captureLog();
  gateway = await startGateway({
    config: testConfig({
      GATEWAY_UPSTREAM_URL: jitsi.url,
      GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
      GATEWAY_RULES: JSON.stringify(rules),
    }),
    logger: log.logger,
  });
  nginx = await startNginx({ pki, gatewayPort: gateway.port, verifyClient: 'optional' });
});

afterAll(async () => {
  await nginx?.stop();
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
  return (await jwtVerify(token, new TextEncoder().encode(TEST_APP_SECRET))).payload;
}

/** Jitsi's `{state}`: the room and tenant as they appear in the page URL. */
function state(room: string, tenant?: string): string {
  return encodeURIComponent(JSON.stringify({ room, roomSafe: room.toLowerCase(), tenant }));
}

describe('the token endpoint behind nginx', () => {
  it('sends a holder back to the tenant room with a token that Jitsi then receives', async () => {
    const first = await navigate(`${ENDPOINT}?state=${state('Weekly%20Sync', 'acme')}`, 'alice');

    expect(first.status).toBe(302);
    expect(first.headers.location).toMatch(/^\/acme\/Weekly%20Sync\?jwt=/);
    expect(await claimsIn(first.headers.location as string)).toMatchObject({
      sub: 'acme',
      room: 'weekly%20sync',
      context: { user: { name: 'Alice Example', moderator: true }, group: 'staff' },
    });

    const page = await navigate(first.headers.location as string, 'alice', markerOf(first));
    expect(page.status).toBe(200);
    expect((JSON.parse(page.body) as ReceivedRequest).url).toBe(first.headers.location);
  });

  it('shows a visitor without a certificate a 403 page', async () => {
    const response = await navigate(`${ENDPOINT}?room=Weekly`);
    expect(response.status).toBe(403);
    expect(response.body).toContain('This meeting needs a client certificate.');
  });

  it.each([
    ['//evil.example'],
    ['/%5Cevil.example'],
    ['https://evil.example/'],
    ['%2F%2Fevil.example'],
    ['Weekly%0D%0ALocation:%20https://evil.example/'],
  ])('answers room=%s with a 400 page and no Location', async (room) => {
    const response = await navigate(`${ENDPOINT}?room=${room}`, 'alice');
    expect(response.status).toBe(400);
    expect(response.headers.location).toBeUndefined();
  });
});

describe('rules behind nginx', () => {
  it('refuses the holder of a blocked certificate on a room page with the reason', async () => {
    const response = await navigate('/Weekly', 'bob');

    expect(response.status).toBe(403);
    expect(response.body).toContain(
      'This site does not accept your certificate: this certificate has been blocked',
    );
    expect(jitsi.requests.some((seen) => seen.url.startsWith('/Weekly'))).toBe(false);
  });

  it('refuses the holder of a blocked certificate at the token endpoint too', async () => {
    const response = await navigate(`${ENDPOINT}?room=Weekly`, 'bob');
    expect(response.status).toBe(403);
    expect(response.headers.location).toBeUndefined();
  });

  it('gives a holder without OU=Staff a token without the staff claims', async () => {
    const response = await navigate('/Weekly', 'utf8');
    const claims = await claimsIn(response.headers.location as string);
    expect(claims.context).toEqual({
      user: { id: expect.any(String) as string, name: 'José Müller-Łukasz' },
    });
  });
});
