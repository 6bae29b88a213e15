import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { startGateway, type RunningGateway } from '../../../src/server/index.js';
import { TEST_APP_SECRET, TEST_COOKIE_SECRET, testConfig } from '../../helpers/config.js';
import { readFixture } from '../../helpers/fixtures.js';

const NAVIGATE = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const alice = readFixture('plain').headers;
const guest = readFixture('nocert').headers;

type Line = Record<string, unknown>;

/** A pino logger whose lines can be awaited: a line is written when its response closes. */
function captureLines(level: string) {
  const lines: Line[] = [];
  let text = '';
  const waiting: { test: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      for (const raw of chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '')) {
        const line = JSON.parse(raw) as Line;
        lines.push(line);
        for (const waiter of waiting.filter((w) => w.test(line))) waiter.resolve(line);
      }
      callback();
    },
  });
  return {
    logger: createLogger({ level, destination }),
    lines,
    text: () => text,
    lineWith(fields: Line): Promise<Line> {
      const test = (line: Line) => Object.entries(fields).every(([k, v]) => line[k] === v);
      const found = lines.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiting.push({ test, resolve }));
    },
  };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(base: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${base}${path}`, { headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Answers `/status/<code>` with that status and everything else with 200. */
async function startUpstream(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const match = /^\/status\/(\d{3})/.exec(req.url ?? '');
    res.writeHead(match ? Number(match[1]) : 200, { 'Content-Type': 'text/plain' });
    res.end('upstream\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let running: RunningGateway[] = [];
let upstreams: Server[] = [];
afterEach(async () => {
  await Promise.all(running.map((gateway) => gateway.close()));
  for (const server of upstreams) server.closeAllConnections();
  await Promise.all(upstreams.map((server) => new Promise((resolve) => server.close(resolve))));
  running = [];
  upstreams = [];
});

async function start(level = 'info', env: Record<string, string> = {}) {
  const upstream = await startUpstream();
  upstreams.push(upstream.server);
  const log = captureLines(level);
  const gateway = await startGateway({
    config: testConfig({ GATEWAY_UPSTREAM_URL: upstream.url, ...env }),
    logger: log.logger,
  });
  running.push(gateway);
  return { gateway, log, base: gateway.url };
}

function cookieOf(reply: Reply): string {
  const cookie = (reply.headers['set-cookie'] ?? []).find((c) => c.startsWith('jcg_marker='));
  if (!cookie) throw new Error('no marker cookie');
  return cookie.split(';')[0] as string;
}

describe('the log line of a room page request', () => {
  it('states the decision, the reason, the status and the duration, once per request', async () => {
    const { log, base } = await start();
    await send(base, '/Team%20Sync?jwt=123', { ...alice, ...NAVIGATE });

    const line = await log.lineWith({ decision: 'redirect' });
    expect(line).toMatchObject({
      level: 30,
      msg: 'room page: redirect',
      reason: 'token-replaced',
      room: 'team%20sync',
      method: 'GET',
      url: '/Team%20Sync?jwt=[redacted]',
      status: 302,
      peer: expect.stringMatching(/127\.0\.0\.1$/),
      reqId: expect.any(String),
      durationMs: expect.any(Number),
    });
    expect(log.lines.filter((l) => l.reqId === line.reqId)).toHaveLength(1);
  });

  it('names a guest passed through and a guest refused', async () => {
    const passing = await start();
    await send(passing.base, '/room', { ...guest, ...NAVIGATE });
    expect(await passing.log.lineWith({ decision: 'pass' })).toMatchObject({
      reason: 'guest',
      guest: 'no-certificate',
      status: 200,
      level: 30,
    });

    const refusing = await start('info', { GATEWAY_GUESTS: 'refuse' });
    await send(refusing.base, '/room', { ...guest, ...NAVIGATE });
    expect(await refusing.log.lineWith({ decision: 'refuse' })).toMatchObject({
      reason: 'guest-refused',
      status: 403,
      level: 30,
    });
  });

  it('binds the warning about a bad marker to the request it came with', async () => {
    const { log, base } = await start();
    const cookie = 'jcg_marker=s%3Aforged.signature';
    await send(base, '/room', { ...alice, ...NAVIGATE, cookie });

    const decision = await log.lineWith({ decision: 'redirect' });
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        reason: 'marker-signature-invalid',
        level: 40,
        reqId: decision.reqId,
      }),
    );
  });

  it('keeps names and emails out of the log at info', async () => {
    const { log, base } = await start('info');
    await send(base, '/room', { ...alice, ...NAVIGATE });
    await log.lineWith({ decision: 'redirect' });
    expect(log.text()).not.toContain('Alice');
    expect(log.text()).not.toContain('alice@example.org');
  });
});

describe('the access line of any other request', () => {
  it('is written at debug by default, with token query values redacted', async () => {
    const { log, base } = await start('debug');
    await send(base, '/http-bind?room=x&token=secret-bosh-token');

    expect(await log.lineWith({ msg: 'request completed' })).toMatchObject({
      level: 20,
      method: 'GET',
      url: '/http-bind?room=x&token=[redacted]',
      status: 200,
      durationMs: expect.any(Number),
    });
    expect(log.text()).not.toContain('secret-bosh-token');
  });

  it('is written at info when server.accessLogLevel is info', async () => {
    const { log, base } = await start('info', { GATEWAY_ACCESS_LOG_LEVEL: 'info' });
    await send(base, '/libs/app.js');
    expect(await log.lineWith({ msg: 'request completed' })).toMatchObject({ level: 30 });
  });

  it('is a warning for a 4xx and an error for a 5xx', async () => {
    const { log, base } = await start('info');
    await send(base, '/status/404');
    await send(base, '/status/503');
    expect(await log.lineWith({ status: 404 })).toMatchObject({ level: 40 });
    expect(await log.lineWith({ status: 503 })).toMatchObject({ level: 50 });
  });

  it('is an error when the upstream cannot be reached', async () => {
    const log = captureLines('info');
    const gateway = await startGateway({
      config: testConfig({ GATEWAY_UPSTREAM_URL: 'http://127.0.0.1:1' }),
      logger: log.logger,
    });
    running.push(gateway);
    await send(gateway.url, '/libs/app.js');
    expect(await log.lineWith({ msg: 'request completed' })).toMatchObject({
      status: 502,
      level: 50,
    });
  });
});

describe('secrets in the log', () => {
  it('never writes a token, a cookie value, a secret or the certificate, even at trace', async () => {
    const { log, base } = await start('trace');
    const first = await send(base, '/Team%20Sync?lang=de', { ...alice, ...NAVIGATE });
    const location = first.headers.location as string;
    const token = new URL(location, base).searchParams.get('jwt') as string;
    const marker = cookieOf(first);
    const arrived = await send(base, location, { ...alice, ...NAVIGATE, cookie: marker });
    const reloaded = await send(base, '/Team%20Sync?lang=de', {
      ...alice,
      ...NAVIGATE,
      cookie: cookieOf(arrived),
    });
    await send(base, `/http-bind?token=${token}`, { authorization: `Bearer ${token}` });
    await log.lineWith({ msg: 'request completed' });
    await log.lineWith({ reason: 'reload' });

    expect(reloaded.status).toBe(302);
    const text = log.text();
    expect(log.lines).toContainEqual(
      expect.objectContaining({ msg: 'room page facts', subjectDn: expect.any(String) }),
    );
    expect(text).not.toContain(token);
    for (const value of [marker, cookieOf(arrived)]) {
      expect(text).not.toContain(value.slice('jcg_marker='.length));
    }
    expect(text).not.toContain(TEST_APP_SECRET);
    expect(text).not.toContain(TEST_COOKIE_SECRET);
    const certificate = decodeURIComponent(alice['x-ssl-client-cert'] as string);
    for (const line of certificate.split('\n').filter((l) => l.length > 20)) {
      expect(text).not.toContain(line);
    }
  });
});
