// The real process: `node --import tsx src/cli.ts`, configured by environment and file, stopped
// and reloaded by signals, as an operator or an orchestrator does it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { TEST_APP_SECRET, TEST_COOKIE_SECRET } from '../helpers/config.js';
import { readFixture } from '../helpers/fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NAVIGATE = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const alice = readFixture('plain').headers;
const guest = readFixture('nocert').headers;

type Line = Record<string, unknown>;

interface GatewayProcess {
  child: ChildProcess;
  lines: Line[];
  /** Resolves with the first log line, past or future, that has all these fields. */
  line(fields: Line): Promise<Line>;
  exited: Promise<number | null>;
  stdout(): string;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function spawnGateway(env: Record<string, string>): GatewayProcess {
  // Only what the test gives: the outer environment must not configure the gateway.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(GATEWAY_|JWT_|XMPP_DOMAIN$)/.test(name)),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts'], {
    cwd: ROOT,
    env: {
      ...inherited,
      GATEWAY_PORT: '0',
      JWT_APP_SECRET: TEST_APP_SECRET,
      GATEWAY_COOKIE_SECRET: TEST_COOKIE_SECRET,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  let text = '';
  const waiting: { fields: Line; resolve: (line: Line) => void }[] = [];
  const matches = (line: Line, fields: Line) =>
    Object.entries(fields).every(([key, value]) => line[key] === value);

  createInterface({ input: child.stdout! }).on('line', (raw) => {
    text += `${raw}\n`;
    const line = JSON.parse(raw) as Line;
    lines.push(line);
    for (const waiter of waiting.filter((w) => matches(line, w.fields))) waiter.resolve(line);
  });
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  // 'close' comes after the process exited and its output was read to the end.
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });

  return {
    child,
    lines,
    exited,
    stdout: () => text,
    line(fields) {
      const found = lines.find((line) => matches(line, fields));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiting.push({ fields, resolve });
        void exited.then((code) =>
          reject(new Error(`exited with ${code} before ${JSON.stringify(fields)}:\n${text}`)),
        );
      });
    },
  };
}

/**
 * A stand-in Jitsi that holds BOSH polls until released, answers pages with 200, and echoes
 * websocket messages, remembering the close code each websocket ended with.
 */
async function startUpstream() {
  const held: ServerResponse[] = [];
  const holding: (() => void)[] = [];
  const closeCodes: number[] = [];
  const closed: ((code: number) => void)[] = [];
  const server: Server = createServer((req, res) => {
    if (!req.url?.startsWith('/http-bind')) {
      res.end('jitsi page\n');
      return;
    }
    held.push(res);
    holding.shift()?.();
  });
  const wss = new WebSocketServer({ server, path: '/xmpp-websocket' });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => ws.send(data));
    ws.on('close', (code) => {
      closeCodes.push(code);
      closed.shift()?.(code);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holding: () =>
      held.length > 0 ? Promise.resolve() : new Promise<void>((r) => holding.push(r)),
    release: (body: string) => held.shift()?.end(body),
    nextClose: () =>
      closeCodes.length > 0
        ? Promise.resolve(closeCodes.shift() as number)
        : new Promise<number>((resolve) => closed.push(resolve)),
  };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method, headers, agent: false }, (response) => {
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

/** An open websocket through the gateway, with its echo checked and its close code awaited. */
async function openEchoingWebSocket(gatewayUrl: string) {
  const socket = new WebSocket(`${gatewayUrl.replace('http', 'ws')}/xmpp-websocket?token=abc`);
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.on('error', () => undefined);
  cleanups.push(() => socket.terminate());
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('unexpected-response', () => reject(new Error('upgrade refused')));
  });
  const echo = async (text: string): Promise<string> => {
    const reply = new Promise<string>((resolve) =>
      socket.once('message', (data) => resolve(String(data))),
    );
    socket.send(text);
    return reply;
  };
  return { socket, closed, echo };
}

function configFile(content: unknown): { path: string; write(content: unknown): void } {
  const dir = mkdtempSync(join(tmpdir(), 'jcg-signals-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'gateway.json');
  const write = (value: unknown) =>
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  write(content);
  return { path, write };
}

// Each test starts a process that compiles the sources on the fly: give it room.
describe('the gateway process', { timeout: 60_000 }, () => {
  it('states its setup at startup without secrets, is watched in logs and metrics, and stops on SIGINT', async () => {
    const upstream = await startUpstream();
    const gateway = spawnGateway({
      GATEWAY_UPSTREAM_URL: upstream.url,
      GATEWAY_METRICS_PORT: '0',
    });
    const started = await gateway.line({ msg: 'gateway started' });
    expect(started).toMatchObject({
      listen: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      metrics: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/),
      upstream: upstream.url,
      trustedProxies: ['loopback'],
      guests: 'pass',
      issuer: 'jitsi',
      keyId: null,
      algorithm: 'HS256',
      tokenKey: 'secret set',
      cookieSecret: 'set',
    });

    const visit = await send(`${started.listen as string}/room`, { ...alice, ...NAVIGATE });
    expect(visit.status).toBe(302);
    expect(await gateway.line({ decision: 'redirect' })).toMatchObject({ reason: 'no-token' });
    const scrape = await send(started.metrics as string);
    expect(scrape.body).toMatch(/^jitsi_cert_gateway_tokens_minted_total 1$/m);

    gateway.child.kill('SIGINT');
    expect(await gateway.exited).toBe(0);
    expect(gateway.stdout()).not.toContain(TEST_APP_SECRET);
    expect(gateway.stdout()).not.toContain(TEST_COOKIE_SECRET);
  });

  it('on SIGTERM finishes a BOSH poll under way, closes websockets with 1001, and exits 0', async () => {
    const upstream = await startUpstream();
    const gateway = spawnGateway({ GATEWAY_UPSTREAM_URL: upstream.url });
    const { listen } = await gateway.line({ msg: 'gateway started' });
    const websocket = await openEchoingWebSocket(listen as string);
    expect(await websocket.echo('<presence/>')).toBe('<presence/>');
    const poll = send(`${listen as string}/http-bind`, { 'content-type': 'text/xml' }, 'POST');
    await upstream.holding();

    gateway.child.kill('SIGTERM');
    await gateway.line({ msg: 'stopping', signal: 'SIGTERM' });
    expect(await websocket.closed).toBe(1001);
    expect(await upstream.nextClose()).toBe(1001);
    upstream.release('<body rid="1"/>');

    expect(await poll).toMatchObject({ status: 200, body: '<body rid="1"/>' });
    expect(await gateway.exited).toBe(0);
    expect(await gateway.line({ msg: 'stopped' })).toMatchObject({ requestsCut: 0 });
  });

  it('on SIGHUP applies a changed config file while a websocket stays open', async () => {
    const upstream = await startUpstream();
    const file = configFile({ inject: { guests: 'pass' } });
    const gateway = spawnGateway({ GATEWAY_UPSTREAM_URL: upstream.url, GATEWAY_CONFIG: file.path });
    const { listen } = await gateway.line({ msg: 'gateway started' });
    const room = `${listen as string}/room`;
    expect((await send(room, { ...guest, ...NAVIGATE })).status).toBe(200);
    const websocket = await openEchoingWebSocket(listen as string);

    file.write({ inject: { guests: 'refuse' } });
    gateway.child.kill('SIGHUP');
    await gateway.line({ msg: 'configuration reloaded', guests: 'refuse' });

    expect((await send(room, { ...guest, ...NAVIGATE })).status).toBe(403);
    expect(await websocket.echo('still here')).toBe('still here');

    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  });

  it.each([
    ['a setting with a bad value', { inject: { guests: 'maybe' } }, /^inject\.guests/],
    ['a file that is not JSON', '{ "inject": ', /is not valid JSON/],
  ])(
    'on SIGHUP refuses %s with a log line and keeps serving with the old config',
    async (_name, broken, problem) => {
      const upstream = await startUpstream();
      const file = configFile({ inject: { guests: 'refuse' } });
      const gateway = spawnGateway({
        GATEWAY_UPSTREAM_URL: upstream.url,
        GATEWAY_CONFIG: file.path,
      });
      const { listen } = await gateway.line({ msg: 'gateway started' });
      const websocket = await openEchoingWebSocket(listen as string);

      file.write(broken);
      gateway.child.kill('SIGHUP');
      const rejected = await gateway.line({
        msg: 'configuration reload rejected: keeping the current configuration',
      });

      expect(rejected.level).toBe(50);
      expect(rejected.problems).toEqual([expect.stringMatching(problem)]);
      const room = `${listen as string}/room`;
      expect((await send(room, { ...guest, ...NAVIGATE })).status).toBe(403);
      expect((await send(room, { ...alice, ...NAVIGATE })).status).toBe(302);
      expect(await websocket.echo('still here')).toBe('still here');

      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toBe(0);
    },
  );
});
