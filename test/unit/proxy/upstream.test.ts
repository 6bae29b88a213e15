import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createUpstreamProxy, type UpstreamOptions } from '../../../src/proxy/index.js';
import { openWebSocket, UpgradeRefused } from '../../helpers/https-client.js';
import { captureLog, type CapturedLog } from '../../helpers/logs.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Running {
  server: Server;
  url: string;
  port: number;
}

const running: (() => Promise<void>)[] = [];
let log: CapturedLog;

afterEach(async () => {
  await Promise.all(running.splice(0).map((stop) => stop()));
});

async function listen(server: Server): Promise<Running> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  running.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { server, url: `http://127.0.0.1:${port}`, port };
}

/** An upstream that records each request and lets the test answer it. */
async function startUpstream(answer: Handler = reflect): Promise<Running> {
  return listen(createServer(answer));
}

function reflect(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
  });
}

async function startProxy(upstreamUrl: string, overrides: Partial<UpstreamOptions> = {}) {
  log = captureLog();
  const proxy = createUpstreamProxy({
    url: upstreamUrl,
    timeoutSeconds: 5,
    longPollTimeoutSeconds: 5,
    isTrustedPeer: (peer) => peer === '127.0.0.1',
    isIdentityHeader: (name) => name === 'x-client-dn' || name.startsWith('x-ssl-client-'),
    logger: log.logger,
    ...overrides,
  });
  const server = createServer((req, res) => proxy.handle(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
    proxy.upgrade(req, socket, head),
  );
  const started = await listen(server);
  running.push(async () => proxy.close());
  return started;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; from?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        localAddress: options.from,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

function seenBy(answer: Answer): { url: string; headers: IncomingHttpHeaders; body: string } {
  return JSON.parse(answer.body) as { url: string; headers: IncomingHttpHeaders; body: string };
}

describe('passing HTTP requests to the upstream', () => {
  it('removes every identity header, whatever its case, and keeps the others', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(upstream.url);
    const answer = await send(`${proxy.url}/libs/app.js?x=1`, {
      headers: {
        'X-SSL-Client-Verify': 'SUCCESS',
        'x-ssl-client-s-dn-legacy': '/CN=Alice',
        'X-Client-DN': 'CN=Alice',
        'X-Other': 'kept',
        Authorization: 'Bearer xyz',
        Host: 'meet.example',
      },
    });

    const seen = seenBy(answer);
    expect(seen.url).toBe('/libs/app.js?x=1');
    expect(Object.keys(seen.headers).filter((name) => name.includes('client'))).toEqual([]);
    expect(seen.headers).toMatchObject({
      'x-other': 'kept',
      authorization: 'Bearer xyz',
      host: 'meet.example',
    });
  });

  it('keeps the forwarding headers a trusted proxy set', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(upstream.url);
    const answer = await send(proxy.url, {
      headers: { 'X-Forwarded-For': '198.51.100.7', 'X-Forwarded-Proto': 'https' },
    });
    expect(seenBy(answer).headers).toMatchObject({
      'x-forwarded-for': '198.51.100.7',
      'x-forwarded-proto': 'https',
    });
  });

  it('replaces the forwarding headers of a peer that is not a trusted proxy', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(upstream.url);
    const answer = await send(proxy.url, {
      from: '127.0.0.2',
      headers: {
        'X-Forwarded-For': '198.51.100.7',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'evil.example',
      },
    });
    const { headers } = seenBy(answer);
    expect(headers['x-forwarded-for']).toBe('127.0.0.2');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBeUndefined();
  });

  it('drops hop-by-hop headers in both directions', async () => {
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'Keep-Alive': 'timeout=1', 'X-Seen': JSON.stringify(req.headers) });
      res.end('ok');
    });
    const proxy = await startProxy(upstream.url);
    const answer = await send(proxy.url, {
      headers: { 'Proxy-Connection': 'keep-alive', 'Keep-Alive': 'timeout=9', TE: 'trailers' },
    });
    const seen = JSON.parse(answer.headers['x-seen'] as string) as IncomingHttpHeaders;
    expect(seen['proxy-connection']).toBeUndefined();
    expect(seen['keep-alive']).toBeUndefined();
    expect(seen.te).toBeUndefined();
    expect(answer.headers['keep-alive']).toBeUndefined();
  });

  it('streams a large body to the upstream and a large answer back unchanged', async () => {
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
    });
    const proxy = await startProxy(upstream.url);
    const body = 'Jitsi '.repeat(200_000);
    const answer = await send(`${proxy.url}/http-bind`, { method: 'POST', body });
    expect(answer.status).toBe(200);
    expect(answer.headers['transfer-encoding']).toBe('chunked');
    expect(answer.body).toBe(body);
  });

  it('prefixes request paths with the path of the upstream URL', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(`${upstream.url}/meet/`);
    expect(seenBy(await send(`${proxy.url}/room?x=1`, {})).url).toBe('/meet/room?x=1');
  });

  it('answers with a short 502 page and logs the failure when the upstream is down', async () => {
    const proxy = await startProxy('http://127.0.0.1:1');
    const answer = await send(`${proxy.url}/config.js?jwt=secret`, {});

    expect(answer.status).toBe(502);
    expect(answer.body).toContain('Jitsi cannot be reached right now.');
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ reason: 'upstream-error', code: 'ECONNREFUSED', level: 40 }),
    );
    expect(log.text()).not.toContain('secret');
  });

  it('answers with a 504 page when the upstream does not answer in time', async () => {
    const upstream = await startUpstream(() => undefined);
    const proxy = await startProxy(upstream.url, { timeoutSeconds: 0.2 });
    const answer = await send(`${proxy.url}/config.js`, {});

    expect(answer.status).toBe(504);
    expect(answer.body).toContain('Jitsi did not answer in time.');
  });

  it('waits for a BOSH long-poll past the ordinary timeout', async () => {
    const upstream = await startUpstream((_req, res) => {
      setTimeout(() => res.end('<body/>'), 400);
    });
    const proxy = await startProxy(upstream.url, {
      timeoutSeconds: 0.1,
      longPollTimeoutSeconds: 5,
    });
    const [bosh, tenantBosh] = await Promise.all([
      send(`${proxy.url}/http-bind?room=x`, { method: 'POST', body: '<body/>' }),
      send(`${proxy.url}/team/http-bind`, { method: 'POST', body: '<body/>' }),
    ]);
    expect([bosh.status, tenantBosh.status]).toEqual([200, 200]);
  });

  it('closes the upstream request when the browser goes away', async () => {
    let upstreamClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    let received: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    const upstream = await startUpstream((req) => {
      req.socket.once('close', upstreamClosed);
      received();
    });
    const proxy = await startProxy(upstream.url);

    const outgoing = httpRequest(`${proxy.url}/http-bind`, { method: 'POST', agent: false });
    outgoing.on('error', () => undefined);
    outgoing.end('<body/>');
    await arrived;
    outgoing.destroy();

    await closed;
    expect(log.lines().filter((line) => line.reason === 'upstream-error')).toEqual([]);
  });

  it('cuts the answer off when the upstream breaks off in the middle of it', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial', () => res.destroy());
    });
    const proxy = await startProxy(upstream.url);
    await expect(send(`${proxy.url}/libs/app.js`, {})).rejects.toThrow(/aborted|socket hang up/);
  });
});

describe('passing websockets to the upstream', () => {
  async function startWebSocketUpstream() {
    const server = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true });
    const closeWaiters: (() => void)[] = [];
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (req.url?.startsWith('/missing')) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.send(JSON.stringify({ url: req.url, headers: req.headers }));
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
        ws.on('close', () => closeWaiters.shift()?.());
      });
    });
    running.push(async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
    });
    const started = await listen(server);
    /** Resolves when the upstream sees its next websocket close. */
    const nextClose = () => new Promise<void>((resolve) => closeWaiters.push(resolve));
    return { ...started, nextClose };
  }

  it('joins a websocket on any path to the upstream, without identity headers', async () => {
    const upstream = await startWebSocketUpstream();
    const proxy = await startProxy(upstream.url);
    const socket = await openWebSocket(`ws://127.0.0.1:${proxy.port}/colibri-ws/a/b?pwd=1`, {
      headers: { 'X-SSL-Client-Verify': 'SUCCESS', 'X-Client-DN': 'CN=Alice' },
    });
    running.push(() => socket.close());

    const upgrade = JSON.parse(await socket.nextMessage()) as { url: string; headers: object };
    expect(upgrade.url).toBe('/colibri-ws/a/b?pwd=1');
    expect(Object.keys(upgrade.headers).filter((name) => name.includes('client'))).toEqual([]);
    socket.socket.send('<presence/>');
    expect(await socket.nextMessage()).toBe('<presence/>');
  });

  it('replaces the forwarding headers of an untrusted peer on a websocket', async () => {
    const upstream = await startWebSocketUpstream();
    const proxy = await startProxy(upstream.url, { isTrustedPeer: () => false });
    const socket = await openWebSocket(`ws://127.0.0.1:${proxy.port}/xmpp-websocket`, {
      headers: { 'X-Forwarded-For': '198.51.100.7' },
    });
    running.push(() => socket.close());

    const upgrade = JSON.parse(await socket.nextMessage()) as { headers: IncomingHttpHeaders };
    expect(upgrade.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('passes the upstream refusing a websocket back to the browser', async () => {
    const upstream = await startWebSocketUpstream();
    const proxy = await startProxy(upstream.url);
    const refused = openWebSocket(`ws://127.0.0.1:${proxy.port}/missing`);
    await expect(refused).rejects.toEqual(new UpgradeRefused(404));
  });

  it('answers a websocket with 502 when the upstream is down', async () => {
    const proxy = await startProxy('http://127.0.0.1:1');
    const refused = openWebSocket(`ws://127.0.0.1:${proxy.port}/xmpp-websocket`);
    await expect(refused).rejects.toEqual(new UpgradeRefused(502));
  });

  it('answers a websocket with 504 when the upstream does not answer the handshake', async () => {
    const upstream = await listen(createServer());
    // Holds the handshake without an answer until the test ends.
    upstream.server.on('upgrade', (_req: IncomingMessage, socket: Socket) =>
      running.push(async () => void socket.destroy()),
    );
    const proxy = await startProxy(upstream.url, { timeoutSeconds: 0.2 });
    const refused = openWebSocket(`ws://127.0.0.1:${proxy.port}/xmpp-websocket`);
    await expect(refused).rejects.toEqual(new UpgradeRefused(504));
  });

  it('closes the upstream side when the browser closes its websocket', async () => {
    const upstream = await startWebSocketUpstream();
    const proxy = await startProxy(upstream.url);
    const socket = await openWebSocket(`ws://127.0.0.1:${proxy.port}/xmpp-websocket`);
    await socket.nextMessage();
    const closed = upstream.nextClose();

    socket.socket.terminate();
    await closed;
  });
});
