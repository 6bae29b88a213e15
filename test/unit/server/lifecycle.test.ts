// Stopping and reloading a running gateway in-process; test/e2e/signals.test.ts does the same
// through the real process and its signals.
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../../src/server/index.js';
import { testConfig } from '../../helpers/config.js';
import { readFixture } from '../../helpers/fixtures.js';
import { captureLog } from '../../helpers/logs.js';

const NAVIGATE = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const guest = readFixture('nocert').headers;

let running: RunningGateway[] = [];
let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(running.map((gateway) => gateway.close({ graceSeconds: 1 })));
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  running = [];
  servers = [];
});

/** An upstream that holds every BOSH request until the test releases it. */
async function startUpstream() {
  const held: ServerResponse[] = [];
  const waiting: (() => void)[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    if (!req.url?.startsWith('/http-bind')) {
      res.end('page\n');
      return;
    }
    held.push(res);
    waiting.shift()?.();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Resolves once a BOSH request is held. */
    holding: () =>
      held.length > 0 ? Promise.resolve() : new Promise<void>((r) => waiting.push(r)),
    release: (body: string) => held.shift()?.end(body),
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
      response.on('error', reject);
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

async function start(upstreamUrl: string, env: Record<string, string> = {}) {
  const config = (more: Record<string, string> = {}) =>
    testConfig({ GATEWAY_UPSTREAM_URL: upstreamUrl, ...env, ...more });
  const gateway = await startGateway({ config: config(), logger: captureLog('info').logger });
  running.push(gateway);
  return { gateway, config };
}

describe('stopping', () => {
  it('finishes a BOSH poll under way, refuses new connections, and cuts nothing', async () => {
    const upstream = await startUpstream();
    const { gateway } = await start(upstream.url);
    const poll = send(`${gateway.url}/http-bind`, {}, 'POST');
    await upstream.holding();

    const stopped = gateway.close();
    await expect(send(`${gateway.url}/room`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    upstream.release('<body/>');

    expect(await poll).toMatchObject({ status: 200, body: '<body/>' });
    expect(await stopped).toEqual({ requestsCut: 0, websocketsCut: 0 });
  });

  it('cuts a request still running when the grace period is over', async () => {
    const upstream = await startUpstream();
    const { gateway } = await start(upstream.url);
    const poll = send(`${gateway.url}/http-bind`, {}, 'POST');
    await upstream.holding();

    const report = await gateway.close({ graceSeconds: 1 });

    expect(report).toEqual({ requestsCut: 1, websocketsCut: 0 });
    await expect(poll).rejects.toThrow(/socket hang up|ECONNRESET/);
  });
});

describe('reloading', () => {
  it('applies a new config to new requests and lets requests under way finish', async () => {
    const upstream = await startUpstream();
    const { gateway, config } = await start(upstream.url);
    expect((await send(`${gateway.url}/room`, { ...guest, ...NAVIGATE })).status).toBe(200);
    const poll = send(`${gateway.url}/http-bind`, {}, 'POST');
    await upstream.holding();

    const outcome = gateway.reload(config({ GATEWAY_GUESTS: 'refuse' }));
    upstream.release('<body/>');

    expect(outcome).toEqual({ notApplied: [] });
    expect((await send(`${gateway.url}/room`, { ...guest, ...NAVIGATE })).status).toBe(403);
    expect(await poll).toMatchObject({ status: 200, body: '<body/>' });
  });

  it('keeps its counters and names the listen settings it cannot change', async () => {
    const upstream = await startUpstream();
    const { gateway, config } = await start(upstream.url);
    await send(`${gateway.url}/room`, { ...guest, ...NAVIGATE });

    const outcome = gateway.reload(config({ GATEWAY_PORT: '1', GATEWAY_METRICS_PORT: '9' }));

    expect(outcome.notApplied).toEqual(['listen.port', 'server.metricsPort']);
    const text = await gateway.metrics.registry.metrics();
    expect(text).toContain(
      'jitsi_cert_gateway_room_page_decisions_total{decision="pass",reason="guest"} 1',
    );
    expect(text).toContain('jitsi_cert_gateway_config_reloads_total{result="applied"} 1');
  });
});

describe('an error in one request', () => {
  it('becomes that request’s 500 page, and the gateway keeps serving', async () => {
    const upstream = await startUpstream();
    let calls = 0;
    const gateway = await startGateway({
      config: testConfig({ GATEWAY_UPSTREAM_URL: upstream.url }),
      logger: captureLog('info').logger,
      clock: () => {
        calls += 1;
        if (calls === 1) throw new Error('the clock broke');
        return Math.floor(Date.now() / 1000);
      },
    });
    running.push(gateway);

    const failed = await send(`${gateway.url}/room`, { ...guest, ...NAVIGATE });
    const next = await send(`${gateway.url}/room`, { ...guest, ...NAVIGATE });

    expect(failed.status).toBe(500);
    expect(failed.body).toContain('The gateway could not handle this request.');
    expect(failed.body).not.toContain('the clock broke');
    expect(next.status).toBe(200);
  });
});
