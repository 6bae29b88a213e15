// Oversized and slow requests and floods of connections get a clear status, and nothing they
// hold stays open. Timeouts are set to a second here; the tests wait for close events.
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startGateway, type RunningGateway } from '../../src/server/index.js';
import { TEST_APP_SECRET, TEST_COOKIE_SECRET, testConfig } from '../helpers/config.js';
import { captureLog, type CapturedLog } from '../helpers/logs.js';
import {
  openSocket,
  parseResponse,
  readUntilClose,
  sendRaw,
  type RawResponse,
  type RawTarget,
} from '../helpers/raw-http.js';
import { startStandInJitsi, type StandInJitsi } from '../helpers/stand-in-jitsi.js';

const OUTSIDER = '127.0.0.2';
const MAX_HEADER_BYTES = 8192;
const PER_PEER = 50;

let jitsi: StandInJitsi;
let log: CapturedLog;
let gateway: RunningGateway;
let capped: RunningGateway;
let clients: Socket[] = [];
let drips: NodeJS.Timeout[] = [];

beforeAll(async () => {
  jitsi = await startStandInJitsi();
  log = captureLog();
  const common = {
    GATEWAY_UPSTREAM_URL: jitsi.url,
    GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
    GATEWAY_MAX_HEADER_BYTES: String(MAX_HEADER_BYTES),
  };
  [gateway, capped] = await Promise.all([
    startGateway({
      config: testConfig({
        ...common,
        GATEWAY_HEADERS_TIMEOUT: '1',
        GATEWAY_REQUEST_TIMEOUT: '2',
        GATEWAY_MAX_CONNECTIONS_PER_PEER: '0',
      }),
      logger: log.logger,
    }),
    startGateway({
      config: testConfig({ ...common, GATEWAY_MAX_CONNECTIONS_PER_PEER: String(PER_PEER) }),
      logger: log.logger,
    }),
  ]);
});

afterEach(() => {
  for (const timer of drips) clearInterval(timer);
  for (const socket of clients) socket.destroy();
  drips = [];
  clients = [];
});

afterAll(async () => {
  await Promise.all([gateway?.close(), capped?.close()]);
  await jitsi?.close();
});

function get(target: RunningGateway, path: string, from?: string, extra: string[] = []) {
  const head = [`GET ${path} HTTP/1.1`, 'Host: meet.example.org', ...extra];
  return sendRaw({ port: target.port, localAddress: from }, head.join('\r\n'));
}

/** Opens `count` connections that send nothing; each resolves with what it got once closed. */
async function openIdle(target: RawTarget, count: number): Promise<Promise<RawResponse>[]> {
  const sockets = await Promise.all(Array.from({ length: count }, () => openSocket(target)));
  clients.push(...sockets);
  return sockets.map(async (socket) => parseResponse(await readUntilClose(socket)));
}

/** Resolves once every connection the server accepts from now on, up to `count`, is closed. */
function serverSideClosed(target: RunningGateway, count: number): Promise<void> {
  return new Promise((resolve) => {
    let closed = 0;
    const onConnection = (socket: Socket) => {
      socket.once('close', () => {
        closed += 1;
        if (closed === count) resolve();
      });
    };
    target.server.on('connection', onConnection);
    target.server.once('close', () => target.server.off('connection', onConnection));
  });
}

describe('oversized requests', () => {
  it('answers headers larger than limits.maxHeaderBytes with 431 and keeps serving', async () => {
    const big = await get(gateway, '/Big', undefined, [
      `X-Padding: ${'a'.repeat(MAX_HEADER_BYTES)}`,
    ]);
    const next = await get(gateway, '/config.js');

    expect(big.status).toBe(431);
    expect(big.body).toBe('The request headers are too large.\n');
    expect(next.status).toBe(200);
  });

  it('answers many headers that add up to more than the limit with 431', async () => {
    const lines = Array.from({ length: 200 }, (_, index) => `X-Many-${index}: ${'b'.repeat(60)}`);
    const response = await get(gateway, '/Many', undefined, lines);

    expect(response.status).toBe(431);
  });

  it('answers a request target longer than the limit with 431', async () => {
    const response = await get(gateway, `/${'r'.repeat(MAX_HEADER_BYTES)}`);

    expect(response.status).toBe(431);
    expect(jitsi.requests.filter((seen) => seen.url.length > MAX_HEADER_BYTES)).toEqual([]);
  });

  it('redirects a holder on a long room path within the limit', async () => {
    const path = `/${'r'.repeat(MAX_HEADER_BYTES / 2)}`;
    const response = await get(gateway, path, undefined, [
      'Sec-Fetch-Mode: navigate',
      'Sec-Fetch-Dest: document',
      'X-SSL-Client-Verify: SUCCESS',
      'X-SSL-Client-S-DN: CN=Long Path',
    ]);

    expect(response.status).toBe(302);
  });
});

describe('slow requests', () => {
  it('closes a connection that sends its headers byte by byte slower than the headers timeout, with 408', async () => {
    const socket = await openSocket({ port: gateway.port });
    clients.push(socket);
    const received = readUntilClose(socket);
    const head = Buffer.from(
      `GET /Slow HTTP/1.1\r\nHost: meet.example.org\r\nX-Slow: ${'s'.repeat(400)}\r\n\r\n`,
    );
    let sent = 0;
    drips.push(
      setInterval(() => {
        if (sent < head.length && socket.writable) socket.write(head.subarray(sent, ++sent));
      }, 20),
    );

    const response = parseResponse(await received);
    expect(response.status).toBe(408);
    expect(response.body).toBe('The request did not arrive in time.\n');
    expect(sent).toBeLessThan(head.length);
    expect(jitsi.requests.filter((seen) => seen.url === '/Slow')).toEqual([]);
  });

  it('closes a connection that never sends a request, with 408', async () => {
    const [idle] = await openIdle({ port: gateway.port }, 1);

    expect((await idle)?.status).toBe(408);
  });

  it('closes a request whose body trickles in slower than the request timeout, with 408', async () => {
    const socket = await openSocket({ port: gateway.port });
    clients.push(socket);
    const received = readUntilClose(socket);
    socket.write(
      'POST /http-bind HTTP/1.1\r\nHost: meet.example.org\r\nContent-Type: text/xml\r\n' +
        'Content-Length: 10000\r\n\r\n<body',
    );
    drips.push(setInterval(() => socket.writable && socket.write(' '), 20));

    expect(parseResponse(await received).status).toBe(408);
    expect((await get(gateway, '/config.js')).status).toBe(200);
  });

  it('keeps a held BOSH request open past the request timeout once its body has arrived', async () => {
    const body = '<body rid="7"/>';
    const head = [
      'POST /http-bind?hold=2500 HTTP/1.1',
      'Host: meet.example.org',
      'Content-Type: text/xml',
      `Content-Length: ${body.length}`,
    ];
    const response = await sendRaw({ port: gateway.port }, head.join('\r\n'), body);

    expect(response.status).toBe(200);
    expect(response.body).toBe(body);
  });
});

describe('many connections from one peer', () => {
  it('keeps serving beside 500 idle connections from the trusted proxy, and closes them all', async () => {
    const allClosed = serverSideClosed(gateway, 500);
    const idle = await openIdle({ port: gateway.port }, 500);

    const page = await get(gateway, '/config.js');
    expect(page.status).toBe(200);

    const answers = await Promise.all(idle);
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([408]));
    await allClosed;
  });

  it('answers connections over limits.maxConnectionsPerPeer from another peer with 503', async () => {
    const accepted = serverSideClosed(capped, PER_PEER);
    const idle = await openIdle({ port: capped.port, localAddress: OUTSIDER }, PER_PEER + 30);
    const refused = idle.slice(PER_PEER);
    // Connections are accepted in the order they were opened, so the last ones are over the cap.
    const refusals = await Promise.all(refused);
    expect(refusals.map((answer) => answer.status)).toEqual(refused.map(() => 503));

    const outsider = await get(capped, '/config.js', OUTSIDER);
    const proxy = await get(capped, '/config.js', '127.0.0.1');
    expect(outsider.status).toBe(503);
    expect(outsider.body).toBe('Too many connections from this address.\n');
    expect(proxy.status).toBe(200);
    expect(log.lines().filter((line) => line.reason === 'too-many-connections')).toHaveLength(1);

    for (const socket of clients) socket.destroy();
    await accepted;
    expect((await get(capped, '/config.js', OUTSIDER)).status).toBe(200);
  });
});

describe('limit settings', () => {
  it('refuses a headers timeout longer than the request timeout', () => {
    const result = loadConfig({
      env: {
        JWT_APP_SECRET: TEST_APP_SECRET,
        GATEWAY_COOKIE_SECRET: TEST_COOKIE_SECRET,
        GATEWAY_HEADERS_TIMEOUT: '30',
        GATEWAY_REQUEST_TIMEOUT: '10',
      },
    });

    expect(result).toEqual({
      ok: false,
      problems: [
        'limits.requestTimeoutSeconds (GATEWAY_REQUEST_TIMEOUT): must be at least limits.headersTimeoutSeconds',
      ],
    });
  });
});
