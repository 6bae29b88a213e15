import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startGateway, type RunningGateway } from '../../../src/server/index.js';
import { testConfig } from '../../helpers/config.js';
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js';
import { readFixture } from '../../helpers/fixtures.js';
import { captureLog } from '../../helpers/logs.js';

const NAVIGATE = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const alice = readFixture('plain').headers;

let upstream: EchoUpstream;
let running: RunningGateway[] = [];
let others: Server[] = [];
beforeAll(async () => {
  upstream = await startEchoUpstream();
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await Promise.all(running.map((gateway) => gateway.close()));
  for (const server of others) server.closeAllConnections();
  await Promise.all(others.map((server) => new Promise((resolve) => server.close(resolve))));
  running = [];
  others = [];
  upstream.requests.length = 0;
});

async function start(env: Record<string, string> = {}): Promise<RunningGateway> {
  const gateway = await startGateway({
    config: testConfig({ GATEWAY_UPSTREAM_URL: upstream.url, GATEWAY_METRICS_PORT: '0', ...env }),
    logger: captureLog('info').logger,
  });
  running.push(gateway);
  return gateway;
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

function internal(gateway: RunningGateway, path: string): Promise<Reply> {
  return send((gateway.metricsUrl as string).replace(/\/metrics$/, path));
}

describe('/_gateway/healthz and /_gateway/readyz on the main port', () => {
  it('answer alive and ready, even to a holder navigating there, without Jitsi seeing it', async () => {
    const gateway = await start();
    const alive = await send(`${gateway.url}/_gateway/healthz`, { ...alice, ...NAVIGATE });
    const ready = await send(`${gateway.url}/_gateway/readyz`, { ...alice, ...NAVIGATE });

    expect(alive).toMatchObject({ status: 200, body: 'ok\n' });
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({
      ready: true,
      checks: { config: 'ok', keys: 'ok', upstream: 'ok', shutdown: 'ok' },
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it('report not ready, with the reason, when the upstream cannot be reached', async () => {
    const gateway = await start({ GATEWAY_UPSTREAM_URL: 'http://127.0.0.1:1' });
    const ready = await send(`${gateway.url}/_gateway/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({
      ready: false,
      checks: { upstream: 'ECONNREFUSED', keys: 'ok' },
    });
  });

  it.each([
    ['an unknown path under it', '/_gateway/other'],
    ['a path deeper down', '/_gateway/healthz/more'],
    ['the prefix with its first segment escaped', '/%5Fgateway/secret'],
  ])('keep %s away from the room reader and from Jitsi', async (_name, path) => {
    const gateway = await start();
    const response = await send(`${gateway.url}${path}`, { ...alice, ...NAVIGATE });
    expect(response.status).toBe(404);
    expect(upstream.requests).toHaveLength(0);
  });

  it('refuse methods other than GET and HEAD', async () => {
    const gateway = await start();
    const response = await send(`${gateway.url}/_gateway/healthz`, {}, 'POST');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
  });

  it('refuse a websocket upgrade under /_gateway/ instead of passing it to Jitsi', async () => {
    const gateway = await start();
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/_gateway/healthz`);
      socket.once('unexpected-response', (_req, response) => resolve(response.statusCode ?? 0));
      socket.once('open', () => reject(new Error('the upgrade was accepted')));
      socket.on('error', () => undefined);
    });
    expect(status).toBe(404);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('the metrics listener', () => {
  it('serves /healthz, /readyz and /metrics, and nothing else', async () => {
    const gateway = await start();
    expect((await internal(gateway, '/healthz')).status).toBe(200);
    expect((await internal(gateway, '/readyz')).status).toBe(200);
    expect((await internal(gateway, '/metrics')).body).toContain('# TYPE');
    expect((await internal(gateway, '/room')).status).toBe(404);
    expect(upstream.requests).toHaveLength(0);
  });

  it('is not started unless server.metricsPort is set', async () => {
    const gateway = await start({ GATEWAY_METRICS_PORT: '' });
    expect(gateway.metricsUrl).toBeUndefined();
  });

  it('reports not ready while the gateway shuts down', async () => {
    const held = await startHeldUpstream();
    const gateway = await start({ GATEWAY_UPSTREAM_URL: held.url });
    const pending = send(`${gateway.url}/http-bind`, {}, 'POST');
    await held.arrived;

    const stopped = gateway.close();
    const ready = await internal(gateway, '/readyz');
    held.release();
    await pending;
    await stopped;

    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ checks: { shutdown: 'draining' } });
  });
});

/** An upstream that holds the first request until released. */
async function startHeldUpstream() {
  let release = (): void => undefined;
  let arrive = (): void => undefined;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const server: Server = createServer((_req, res) => {
    release = () => res.end('released\n');
    arrive();
  });
  others.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, arrived, release: () => release() };
}
