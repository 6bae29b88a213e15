import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../../src/server/index.js';
import { testConfig } from '../../helpers/config.js';
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js';
import { readFixture } from '../../helpers/fixtures.js';
import { captureLog } from '../../helpers/logs.js';

const NAVIGATE = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const alice = readFixture('plain').headers;

let upstream: EchoUpstream;
let running: RunningGateway[] = [];
beforeAll(async () => {
  upstream = await startEchoUpstream();
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await Promise.all(running.map((gateway) => gateway.close()));
  running = [];
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

/** Scrapes the metrics listener and returns the value of one sample, or undefined. */
async function sample(gateway: RunningGateway, name: string, labels = ''): Promise<number> {
  const scrape = await send(gateway.metricsUrl as string);
  expect(scrape.status).toBe(200);
  const line = scrape.body
    .split('\n')
    .find((text) => text.startsWith(`${name}${labels === '' ? '' : `{${labels}}`} `));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** A holder's first visit and the return with the token and the marker. */
async function redirectFlow(gateway: RunningGateway): Promise<void> {
  const first = await send(`${gateway.url}/room`, { ...alice, ...NAVIGATE });
  expect(first.status).toBe(302);
  const marker = (first.headers['set-cookie']?.[0] ?? '').split(';')[0] as string;
  const back = await send(`${gateway.url}${first.headers.location as string}`, {
    ...alice,
    ...NAVIGATE,
    cookie: marker,
  });
  expect(back.status).toBe(200);
}

const P = 'jitsi_cert_gateway_';

describe('metrics scraped over HTTP', () => {
  it('count the decisions, the token minted and their latency after a redirect flow', async () => {
    const gateway = await start();
    expect(await sample(gateway, `${P}tokens_minted_total`)).toBe(0);

    await redirectFlow(gateway);

    expect(await sample(gateway, `${P}tokens_minted_total`)).toBe(1);
    const decisions = `${P}room_page_decisions_total`;
    expect(await sample(gateway, decisions, 'decision="redirect",reason="no-token"')).toBe(1);
    expect(await sample(gateway, decisions, 'decision="pass",reason="token-usable"')).toBe(1);
    const latency = `${P}room_page_decision_duration_seconds_count`;
    expect(await sample(gateway, latency, 'decision="redirect"')).toBe(1);
    const proxied = `${P}proxied_request_duration_seconds_count`;
    expect(await sample(gateway, proxied, 'route="other",status_class="2xx"')).toBe(1);
  });

  it('count a broken loop', async () => {
    const gateway = await start();
    const first = await send(`${gateway.url}/room`, { ...alice, ...NAVIGATE });
    const marker = (first.headers['set-cookie']?.[0] ?? '').split(';')[0] as string;
    await send(`${gateway.url}/room`, { ...alice, ...NAVIGATE, cookie: marker });

    expect(await sample(gateway, `${P}loops_broken_total`, 'reason="loop-broken"')).toBe(1);
  });

  it('count BOSH requests apart from other proxied requests', async () => {
    const gateway = await start();
    await send(`${gateway.url}/http-bind?token=abc`, {}, 'POST');
    const proxied = `${P}proxied_request_duration_seconds_count`;
    expect(await sample(gateway, proxied, 'route="bosh",status_class="2xx"')).toBe(1);
  });

  it('count upstream errors by code', async () => {
    const gateway = await start({ GATEWAY_UPSTREAM_URL: 'http://127.0.0.1:1' });
    expect((await send(`${gateway.url}/libs/app.js`)).status).toBe(502);
    expect(await sample(gateway, `${P}upstream_errors_total`, 'code="ECONNREFUSED"')).toBe(1);
  });

  it('include the default process metrics', async () => {
    const gateway = await start();
    // The CPU counter counts from the gateway's start, in the clock ticks of the system: a
    // gateway scraped at once may not have used a whole tick yet. Present is what counts.
    expect(await sample(gateway, 'process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
    expect(await sample(gateway, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('belong to one gateway: a second gateway in the same process counts on its own', async () => {
    const [one, two] = await Promise.all([start(), start()]);
    await redirectFlow(one);
    expect(await sample(one, `${P}tokens_minted_total`)).toBe(1);
    expect(await sample(two, `${P}tokens_minted_total`)).toBe(0);
  });
});

describe('metrics on the main port', () => {
  it('are not served by default, and the path never reaches Jitsi', async () => {
    const gateway = await start();
    const response = await send(`${gateway.url}/_gateway/metrics`, { ...alice, ...NAVIGATE });
    expect(response.status).toBe(404);
    expect(upstream.requests).toHaveLength(0);
  });

  it('are served at /_gateway/metrics when server.publicMetrics is on', async () => {
    const gateway = await start({ GATEWAY_PUBLIC_METRICS: 'true' });
    const response = await send(`${gateway.url}/_gateway/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain(`${P}tokens_minted_total 0`);
  });
});
