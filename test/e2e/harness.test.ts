// Proves the e2e helpers themselves: nginx proxies straight to the stand-in, no gateway between.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type Pki } from '../helpers/certificates.js';
import {
  openWebSocket,
  readTlsMaterial,
  request,
  UpgradeRefused,
  websocketUrl,
  type OpenWebSocket,
} from '../helpers/https-client.js';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';
import {
  startStandInJitsi,
  STATIC_BIN_BYTES,
  type ReceivedRequest,
  type StandInJitsi,
} from '../helpers/stand-in-jitsi.js';

const ALICE_DN = 'emailAddress=alice@example.org,CN=Alice Example,OU=Staff,O=Example Org,C=DE';
const ALICE_DN_LEGACY =
  '/C=DE/O=Example Org/OU=Staff/CN=Alice Example/emailAddress=alice@example.org';
const CA_DN = 'CN=Example Test Root CA,O=Example Org,C=DE';
const ACCEPT_JSON = { accept: 'application/json' };

let pki: Pki | undefined;
let jitsi: StandInJitsi | undefined;
let optional: RunningNginx | undefined;
let optionalNoCa: RunningNginx | undefined;
const sockets: OpenWebSocket[] = [];

// The hooks assign these before any test runs; a failed start fails the suite first.
const started = () => ({
  pki: pki!,
  jitsi: jitsi!,
  optional: optional!,
  optionalNoCa: optionalNoCa!,
});

/** Waits for every start, even after one fails, so that afterAll can stop all that started. */
async function startAll(...starts: Promise<unknown>[]): Promise<void> {
  const failure = (await Promise.allSettled(starts)).find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}

beforeAll(async () => {
  await startAll(
    makePki().then((made) => (pki = made)),
    startStandInJitsi().then((standIn) => (jitsi = standIn)),
  );
  const common = { pki: pki!, gatewayPort: jitsi!.port }; // startAll resolved: both are set
  await startAll(
    startNginx({ ...common, verifyClient: 'optional' }).then((nginx) => (optional = nginx)),
    startNginx({ ...common, verifyClient: 'optional_no_ca' }).then(
      (nginx) => (optionalNoCa = nginx),
    ),
  );
});

afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.close()));
  await Promise.all([optional?.stop(), optionalNoCa?.stop()]);
  await jitsi?.close();
  await pki?.cleanup();
});

function received(body: string): ReceivedRequest {
  return JSON.parse(body) as ReceivedRequest;
}

function countHeader(rawHeaders: readonly string[], name: string): number {
  return rawHeaders.filter((value, index) => index % 2 === 0 && value.toLowerCase() === name)
    .length;
}

describe('test harness: nginx in front of the stand-in Jitsi', () => {
  it('passes a verified certificate to the upstream as SUCCESS with the subject DN', async () => {
    const { optional, jitsi, pki } = started();

    const response = await request(optional, '/AliceRoom?x=1', {
      client: 'alice',
      headers: ACCEPT_JSON,
    });

    expect(response.status).toBe(200);
    const { headers } = received(response.body);
    expect(headers['x-ssl-client-verify']).toBe('SUCCESS');
    expect(headers['x-ssl-client-s-dn']).toBe(ALICE_DN);
    expect(headers['x-ssl-client-s-dn-legacy']).toBe(ALICE_DN_LEGACY);
    expect(headers['x-ssl-client-i-dn']).toBe(CA_DN);
    expect(headers['x-ssl-client-serial']).toMatch(/^[0-9A-F]+$/);
    expect(headers['x-ssl-client-fingerprint']).toMatch(/^[0-9a-f]{40}$/);
    const pem = decodeURIComponent(String(headers['x-ssl-client-cert']));
    expect(pem).toBe(await readFile(pki.clients.alice.cert, 'utf8'));
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(jitsi.requests.some((entry) => entry.url === '/AliceRoom?x=1')).toBe(true);
  });

  it('serves the reflection page as HTML when JSON is not asked for', async () => {
    const response = await request(started().optional, '/SomeRoom', { client: 'bob' });

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const json = /<script id="received" type="application\/json">(.*)<\/script>/.exec(
      response.body,
    )?.[1];
    expect(received(json ?? '{}').headers['x-ssl-client-s-dn']).toBe(
      'CN=Bob Builder,O=Example Org,C=DE',
    );
  });

  it('sends NONE and no subject DN for a request without a certificate', async () => {
    const response = await request(started().optional, '/GuestRoom', { headers: ACCEPT_JSON });

    const { headers } = received(response.body);
    expect(headers['x-ssl-client-verify']).toBe('NONE');
    expect(headers).not.toHaveProperty('x-ssl-client-s-dn');
    expect(headers).not.toHaveProperty('x-ssl-client-cert');
  });

  it('escapes each UTF-8 byte of a subject DN as \\XX', async () => {
    const response = await request(started().optional, '/Utf8Room', {
      client: 'utf8',
      headers: ACCEPT_JSON,
    });

    const { headers } = received(response.body);
    expect(headers['x-ssl-client-verify']).toBe('SUCCESS');
    expect(headers['x-ssl-client-s-dn']).toBe(
      'CN=Jos\\C3\\A9 M\\C3\\BCller-\\C5\\81ukasz,O=Soci\\C3\\A9t\\C3\\A9 Exemple,C=DE',
    );
  });

  it('answers 400 itself to a certificate from an unknown CA under optional', async () => {
    const { optional, jitsi } = started();

    const response = await request(optional, '/ForeignOptional', { client: 'foreign' });

    expect(response.status).toBe(400);
    expect(jitsi.requests.some((entry) => entry.url === '/ForeignOptional')).toBe(false);
  });

  it('passes a certificate from an unknown CA as FAILED with its DN under optional_no_ca', async () => {
    const response = await request(started().optionalNoCa, '/ForeignNoCa', {
      client: 'foreign',
      headers: ACCEPT_JSON,
    });

    expect(response.status).toBe(200);
    const { headers } = received(response.body);
    expect(headers['x-ssl-client-verify']).toMatch(/^FAILED:/);
    expect(headers['x-ssl-client-s-dn']).toBe('CN=Mallory Foreign');
  });

  it('answers 400 itself to an expired certificate under optional', async () => {
    const { optional, jitsi } = started();

    const response = await request(optional, '/ExpiredOptional', { client: 'expired' });

    expect(response.status).toBe(400);
    expect(jitsi.requests.some((entry) => entry.url === '/ExpiredOptional')).toBe(false);
  });

  // optional_no_ca forgives only an unknown issuer, not an expiry: see
  // ngx_ssl_verify_error_optional() in nginx's src/event/ngx_event_openssl.c.
  it('answers 400 itself to an expired certificate under optional_no_ca too', async () => {
    const { optionalNoCa, jitsi } = started();

    const response = await request(optionalNoCa, '/ExpiredNoCa', { client: 'expired' });

    expect(response.status).toBe(400);
    expect(jitsi.requests.some((entry) => entry.url === '/ExpiredNoCa')).toBe(false);
  });

  it('replaces identity headers the browser sent with its own values', async () => {
    const response = await request(started().optional, '/SpoofRoom', {
      headers: {
        ...ACCEPT_JSON,
        'X-SSL-Client-Verify': 'SUCCESS',
        'X-SSL-Client-S-DN': 'CN=Spoofed',
        'X-Forwarded-For': '203.0.113.9',
      },
    });

    const { headers, rawHeaders } = received(response.body);
    expect(headers['x-ssl-client-verify']).toBe('NONE');
    expect(countHeader(rawHeaders, 'x-ssl-client-verify')).toBe(1);
    expect(headers).not.toHaveProperty('x-ssl-client-s-dn');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('serves static files and config.js unchanged', async () => {
    const { optional } = started();

    const [bin, config] = await Promise.all([
      request(optional, '/static/100k.bin', { client: 'alice' }),
      request(optional, '/config.js', { client: 'alice' }),
    ]);

    expect(bin.rawBody.length).toBe(STATIC_BIN_BYTES);
    expect(config.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(config.body).toContain('var config');
  });

  it('returns a held BOSH body after the hold', async () => {
    const body = '<body rid="1" xmlns="http://jabber.org/protocol/httpbind"/>';

    const response = await request(started().optional, '/http-bind?hold=200', {
      client: 'alice',
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body,
    });

    expect(response.status).toBe(200);
    expect(response.body).toBe(body);
  });

  it.each(['/xmpp-websocket?room=r1', '/tenant/xmpp-websocket', '/colibri-ws/jvb1/conf/ep'])(
    'round-trips websocket messages on %s through nginx',
    async (path) => {
      const { optional, pki } = started();
      const tls = await readTlsMaterial(pki, 'alice');

      const socket = await openWebSocket(websocketUrl(optional, path), {
        ...tls,
        protocols: ['xmpp'],
      });
      sockets.push(socket);
      const upgrade = JSON.parse(await socket.nextMessage()) as ReceivedRequest;
      socket.socket.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
      const echo = await socket.nextMessage();
      await socket.close();

      expect(upgrade.url).toBe(path);
      expect(upgrade.headers['x-ssl-client-verify']).toBe('SUCCESS');
      expect(upgrade.headers['x-ssl-client-s-dn']).toBe(ALICE_DN);
      expect(upgrade.headers.upgrade).toBe('websocket');
      expect(echo).toBe('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
    },
  );

  it('refuses a websocket upgrade on a path Jitsi does not serve', async () => {
    const { optional, pki } = started();
    const tls = await readTlsMaterial(pki, 'alice');

    const opening = openWebSocket(websocketUrl(optional, '/not-a-socket'), tls);

    await expect(opening).rejects.toBeInstanceOf(UpgradeRefused);
    await expect(opening).rejects.toMatchObject({ status: 404 });
  });
});
