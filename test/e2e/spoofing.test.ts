// Attempts to claim an identity without a verified certificate: none makes a holder, and no
// identity header reaches Jitsi. A second loopback address plays a peer that is not trusted.
import { jwtVerify } from 'jose';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/index.js';
import { makePki, type ClientName, type Pki } from '../helpers/certificates.js';
import { TEST_APP_SECRET, testConfig } from '../helpers/config.js';
import { readFixture } from '../helpers/fixtures.js';
import { readTlsMaterial } from '../helpers/https-client.js';
import { captureLog, type CapturedLog } from '../helpers/logs.js';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';
import { headerValues, sendRaw, type RawResponse } from '../helpers/raw-http.js';
import {
  startStandInJitsi,
  type ReceivedRequest,
  type StandInJitsi,
} from '../helpers/stand-in-jitsi.js';

const OUTSIDER = '127.0.0.2';
const alice = readFixture('plain').headers;
const MALLORY_DN = 'CN=Mallory Spoof,O=Example Org,C=DE';
const NAVIGATION_LINES = ['Sec-Fetch-Mode: navigate', 'Sec-Fetch-Dest: document'];

/** Everything nginx sends for a verified holder, claiming to be Mallory. */
const CLAIM_LINES = [
  'X-SSL-Client-Verify: SUCCESS',
  `X-SSL-Client-S-DN: ${MALLORY_DN}`,
  `X-SSL-Client-I-DN: ${alice['x-ssl-client-i-dn']}`,
  `X-SSL-Client-Serial: ${alice['x-ssl-client-serial']}`,
  `X-SSL-Client-Fingerprint: ${alice['x-ssl-client-fingerprint']}`,
  `X-SSL-Client-Cert: ${alice['x-ssl-client-cert']}`,
];

let pki: Pki;
let jitsi: StandInJitsi;
let gateway: RunningGateway;
let nginx: RunningNginx;
let nginxNoCa: RunningNginx;
let log: CapturedLog;
let nextPath = 0;

beforeAll(async () => {
  [pki, jitsi] = await Promise.all([makePki(), startStandInJitsi()]);
  log = captureLog();
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

/** A room path no other request in this file uses, so that Jitsi's record of it is ours. */
function freshRoom(): string {
  nextPath += 1;
  return `/Spoof${nextPath}`;
}

function seenUpstream(path: string): ReceivedRequest[] {
  return jitsi.requests.filter((seen) => seen.url.split('?')[0] === path);
}

/** Identity header names as they arrived at Jitsi, in any case, with '-' or '_'. */
function identityHeadersIn(seen: ReceivedRequest): string[] {
  return seen.rawHeaders.filter((_, index) => index % 2 === 0).filter(isIdentityName);
}

function isIdentityName(name: string): boolean {
  return /^x[-_]ssl[-_]/i.test(name);
}

/** No holder was made: no redirect with a token; what reached Jitsi carried no identity header. */
function expectNoHolder(path: string, response: RawResponse): void {
  expect(response.status).not.toBe(302);
  for (const location of headerValues(response, 'location')) expect(location).not.toContain('jwt=');
  for (const seen of seenUpstream(path)) expect(identityHeadersIn(seen)).toEqual([]);
}

function sendDirect(path: string, lines: readonly string[], localAddress?: string) {
  const head = [`GET ${path} HTTP/1.1`, 'Host: meet.example.org', ...NAVIGATION_LINES, ...lines];
  return sendRaw({ port: gateway.port, localAddress }, head.join('\r\n'));
}

describe('identity headers from a peer that is not a trusted proxy', () => {
  const cases: [string, string[]][] = [
    ['as nginx writes them', CLAIM_LINES],
    ['with lower-case names', CLAIM_LINES.map(lowerCaseName)],
    ['with names in mixed case', CLAIM_LINES.map(mixedCaseName)],
    ['each sent twice', CLAIM_LINES.flatMap((line) => [line, line])],
    [
      'with X-Forwarded-For naming the trusted proxy',
      [...CLAIM_LINES, 'X-Forwarded-For: 127.0.0.1'],
    ],
    [
      'with an X-Forwarded-For chain ending in the trusted proxy',
      [...CLAIM_LINES, 'X-Forwarded-For: 127.0.0.2, 127.0.0.1', 'X-Forwarded-For: 127.0.0.1'],
    ],
    [
      'with Forwarded and X-Real-IP naming the trusted proxy',
      [...CLAIM_LINES, 'Forwarded: for=127.0.0.1;proto=https', 'X-Real-IP: 127.0.0.1'],
    ],
    ['with underscores instead of dashes', CLAIM_LINES.map((line) => underscored(line))],
  ];

  it.each(cases)('makes no holder and passes no identity header on, %s', async (_name, lines) => {
    const path = freshRoom();
    const response = await sendDirect(path, lines, OUTSIDER);

    expectNoHolder(path, response);
    expect(response.status).toBe(200);
    expect(seenUpstream(path)).toHaveLength(1);
    expect(seenUpstream(path)[0]?.headers['x-forwarded-for']).toBe(OUTSIDER);
  });

  it('logs identity headers from a peer that is not trusted at warn', async () => {
    const path = freshRoom();
    await sendDirect(path, CLAIM_LINES, OUTSIDER);

    expect(log.lines()).toContainEqual(
      expect.objectContaining({
        level: 40,
        guest: 'untrusted-peer',
        room: path.slice(1).toLowerCase(),
      }),
    );
  });

  it('passes no identity header on with a websocket upgrade', async () => {
    const headers = Object.fromEntries(CLAIM_LINES.map(splitLine));
    const socket = new WebSocket(`ws://127.0.0.1:${gateway.port}/xmpp-websocket?room=spoof`, {
      headers,
      localAddress: OUTSIDER,
    });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        socket.once('message', (data: Buffer) => resolve(data.toString('utf8')));
        socket.once('error', reject);
      });
      const upgrade = JSON.parse(first) as { headers: Record<string, string> };
      expect(Object.keys(upgrade.headers).filter(isIdentityName)).toEqual([]);
    } finally {
      socket.terminate();
    }
  });
});

describe('identity headers from the trusted proxy that it did not write itself', () => {
  const holderLines = CLAIM_LINES.slice(1);
  const verifyCases: [string, string[]][] = [
    ['the verify header twice', ['X-SSL-Client-Verify: SUCCESS', 'X-SSL-Client-Verify: SUCCESS']],
    [
      'the verify header twice, names differing in case',
      ['X-SSL-Client-Verify: SUCCESS', 'x-ssl-client-verify: SUCCESS'],
    ],
    ['SUCCESS, SUCCESS on one line', ['X-SSL-Client-Verify: SUCCESS, SUCCESS']],
    ['success in lower case', ['X-SSL-Client-Verify: success']],
    ['Success capitalised', ['X-SSL-Client-Verify: Success']],
    ['SUCCESS with a trailing semicolon', ['X-SSL-Client-Verify: SUCCESS;']],
    ['SUCCESS in quotes', ['X-SSL-Client-Verify: "SUCCESS"']],
    ['SUCCESS twice with a space between', ['X-SSL-Client-Verify: SUCCESS SUCCESS']],
    ['SUCCESS followed by a comma', ['X-SSL-Client-Verify: SUCCESS,']],
    ['SUCCESS with a non-breaking space', ['X-SSL-Client-Verify: SUCCESS\u00a0']],
    ['a failure that mentions SUCCESS', ['X-SSL-Client-Verify: FAILED:SUCCESS']],
    ['NONE and SUCCESS', ['X-SSL-Client-Verify: NONE, SUCCESS']],
    ['a prefix before SUCCESS', ['X-SSL-Client-Verify: xSUCCESS']],
    ['SUCCESSFUL', ['X-SSL-Client-Verify: SUCCESSFUL']],
  ];

  it.each(verifyCases)('makes no holder from %s', async (_name, verifyLines) => {
    const path = freshRoom();
    const response = await sendDirect(path, [...verifyLines, ...holderLines]);

    expectNoHolder(path, response);
    expect(response.status).toBe(200);
    expect(seenUpstream(path)).toHaveLength(1);
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ guest: 'verify-failed', room: path.slice(1).toLowerCase() }),
    );
  });

  const headerCases: [string, string[]][] = [
    [
      'the subject DN twice',
      ['X-SSL-Client-Verify: SUCCESS', `X-SSL-Client-S-DN: ${MALLORY_DN}`, ...holderLines],
    ],
    [
      'the subject DN twice, names differing in case',
      [
        'X-SSL-Client-Verify: SUCCESS',
        `x-ssl-client-s-dn: CN=Mallory`,
        `X-SSL-Client-S-DN: ${alice['x-ssl-client-s-dn']}`,
      ],
    ],
    [
      'the certificate twice',
      ['X-SSL-Client-Verify: SUCCESS', ...holderLines, CLAIM_LINES[5] as string],
    ],
    [
      'the serial twice',
      ['X-SSL-Client-Verify: SUCCESS', ...holderLines, CLAIM_LINES[3] as string],
    ],
  ];

  it.each(headerCases)('refuses %s with 400 and passes nothing on', async (_name, lines) => {
    const path = freshRoom();
    const response = await sendDirect(path, lines);

    expectNoHolder(path, response);
    expect(response.status).toBe(400);
    expect(response.body).not.toContain('Mallory');
    expect(seenUpstream(path)).toEqual([]);
  });

  it('makes no holder from a verify header folded over two lines', async () => {
    const path = freshRoom();
    const response = await sendDirect(path, [
      'X-SSL-Client-Verify: NONE',
      ' SUCCESS',
      ...holderLines,
    ]);

    expectNoHolder(path, response);
  });

  it('makes no holder from a verify header name with a space before the colon', async () => {
    const path = freshRoom();
    const response = await sendDirect(path, ['X-SSL-Client-Verify : SUCCESS', ...holderLines]);

    expectNoHolder(path, response);
  });
});

describe('identity headers sent by a browser through nginx', () => {
  const headerCases: [string, string[]][] = [
    ['as nginx writes them', CLAIM_LINES],
    ['with lower-case names', CLAIM_LINES.map(lowerCaseName)],
    ['each sent twice under the same name', CLAIM_LINES.flatMap((line) => [line, line])],
    [
      'each sent twice, once in lower case',
      CLAIM_LINES.flatMap((line) => [line, lowerCaseName(line)]),
    ],
    ['with underscores instead of dashes', CLAIM_LINES.map(underscored)],
    ['with a name nginx does not set', ['X-SSL-Client-Verified: SUCCESS', ...CLAIM_LINES]],
    ['with X-Forwarded-For naming nginx', [...CLAIM_LINES, 'X-Forwarded-For: 127.0.0.1']],
  ];

  it.each(headerCases)(
    'makes a visitor without a certificate no holder, %s',
    async (_name, lines) => {
      const path = freshRoom();
      const response = await sendThroughNginx(nginx, path, lines);

      expectNoHolder(path, response);
      expect(response.status).toBe(200);
      expect(seenUpstream(path)).toHaveLength(1);
    },
  );

  it('makes a certificate nginx could not verify no holder, whatever the browser claims', async () => {
    const path = freshRoom();
    const response = await sendThroughNginx(nginxNoCa, path, CLAIM_LINES, 'foreign');

    expectNoHolder(path, response);
    expect(response.status).toBe(200);
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ guest: 'verify-failed', room: path.slice(1).toLowerCase() }),
    );
  });

  it.each<[ClientName, string]>([
    ['alice', 'Alice Example'],
    ['bob', 'Bob Builder'],
  ])('names %s by the certificate, not by the DN the browser claims', async (client, name) => {
    const path = freshRoom();
    const response = await sendThroughNginx(nginx, path, CLAIM_LINES, client);

    expect(response.status).toBe(302);
    const location = headerValues(response, 'location')[0] ?? '';
    const token = new URL(location, nginx.origin).searchParams.get('jwt') ?? '';
    const { payload } = await jwtVerify(token, new TextEncoder().encode(TEST_APP_SECRET));
    expect(payload).toMatchObject({ context: { user: { name } } });
  });
});

async function sendThroughNginx(
  target: RunningNginx,
  path: string,
  lines: readonly string[],
  client?: ClientName,
): Promise<RawResponse> {
  const head = [`GET ${path} HTTP/1.1`, 'Host: localhost', ...NAVIGATION_LINES, ...lines];
  const tls = await readTlsMaterial(pki, client);
  return sendRaw({ port: target.port, tls }, head.join('\r\n'));
}

function splitLine(line: string): [string, string] {
  const colon = line.indexOf(':');
  return [line.slice(0, colon), line.slice(colon + 1).trim()];
}

function lowerCaseName(line: string): string {
  const [name, value] = splitLine(line);
  return `${name.toLowerCase()}: ${value}`;
}

function mixedCaseName(line: string): string {
  const [name, value] = splitLine(line);
  const mixed = [...name].map((char, index) =>
    index % 2 ? char.toLowerCase() : char.toUpperCase(),
  );
  return `${mixed.join('')}: ${value}`;
}

function underscored(line: string): string {
  const colon = line.indexOf(':');
  if (colon === -1) return line.replace(/-/g, '_');
  return `${line.slice(0, colon).replace(/-/g, '_')}${line.slice(colon)}`;
}
