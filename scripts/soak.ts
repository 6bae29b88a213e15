// `npm run soak [-- --seconds N]`: the gateway under mixed traffic while its upstream keeps
// failing in every way it can (see test/helpers/faulty-upstream.ts). Prints memory at the start,
// after warm-up and at the end, then what is left open once the traffic has stopped. Not part of
// `npm test`: it runs for a fixed time and its figures are for a person to read.
import { request as httpRequest } from 'node:http';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { startGateway, type RunningGateway } from '../src/server/index.js';
import { startFaultyUpstream, type FaultyUpstream } from '../test/helpers/faulty-upstream.js';

const WORKERS = 16;

/** Weighted mix: mostly ordinary requests, with every fault in it. */
const MIX = [
  ...Array<string>(12).fill('/ok/libs/app.bundle.js'),
  '/hang/config.js',
  '/cut/libs/lib-jitsi-meet.min.js',
  '/garbage/index.html',
  '/hold/http-bind',
  'ws:/ws/cut',
  'ws:/ws/refuse',
];

function get(gateway: RunningGateway, path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(`${gateway.url}${path}`, { agent: false }, (res) => {
      res.resume();
      res.on('error', () => undefined);
      res.once('close', () => resolve(res.complete ? String(res.statusCode) : 'cut'));
    });
    req.once('error', () => resolve('error'));
    req.end();
  });
}

function webSocket(gateway: RunningGateway, path: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${gateway.url.replace('http', 'ws')}${path}`);
    let failed = false;
    ws.on('error', () => (failed = true));
    ws.once('close', () => resolve(failed ? 'ws-failed' : 'ws-closed'));
  });
}

function rssMb(): string {
  return `${(process.memoryUsage().rss / 1024 / 1024).toFixed(1)} MB`;
}

function connections(gateway: RunningGateway): Promise<number> {
  return new Promise((resolve) => gateway.server.getConnections((_e, count) => resolve(count)));
}

async function traffic(gateway: RunningGateway, upstream: FaultyUpstream, until: number) {
  const outcomes = new Map<string, number>();
  let n = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < until) {
      const pick = MIX[n++ % MIX.length] as string;
      // Now and then the upstream refuses connections for a moment.
      upstream.refuseConnections = n % 97 === 0;
      const outcome = pick.startsWith('ws:')
        ? await webSocket(gateway, pick.slice(3))
        : await get(gateway, pick);
      outcomes.set(`${pick} ${outcome}`, (outcomes.get(`${pick} ${outcome}`) ?? 0) + 1);
    }
  };
  // Held long-polls are answered every half second, as Prosody would when a message arrives.
  const releaser = setInterval(() => upstream.release(), 500);
  await Promise.all(Array.from({ length: WORKERS }, worker));
  clearInterval(releaser);
  upstream.refuseConnections = false;
  upstream.release();
  return outcomes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
  const seconds = Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('--seconds must be positive');

  const upstream = await startFaultyUpstream();
  const result = loadConfig({
    env: {
      GATEWAY_PORT: '0',
      GATEWAY_UPSTREAM_URL: upstream.url,
      GATEWAY_UPSTREAM_TIMEOUT: '1',
      JWT_APP_SECRET: 'soak-app-secret-that-is-long-enough-0123456',
      GATEWAY_COOKIE_SECRET: 'soak-cookie-secret-that-is-long-enough-0123',
      GATEWAY_MAX_CONNECTIONS_PER_PEER: '10000',
    },
  });
  if (!result.ok) throw new Error(result.problems.join('\n'));
  const gateway = await startGateway({
    config: result.config,
    logger: createLogger({ level: 'silent' }),
  });

  console.log(`soak: ${seconds} s, ${WORKERS} clients, upstream ${upstream.url}`);
  console.log(`rss at start:        ${rssMb()}`);
  const warmUp = Math.min(10, seconds / 6);
  const start = Date.now();
  await traffic(gateway, upstream, start + warmUp * 1000);
  console.log(`rss after warm-up:   ${rssMb()}`);
  const outcomes = await traffic(gateway, upstream, start + seconds * 1000);
  global.gc?.();
  console.log(`rss at end:          ${rssMb()}`);

  console.log('outcomes after warm-up:');
  for (const [key, count] of [...outcomes].sort()) console.log(`  ${count}\t${key}`);
  // Closing sockets takes a few event-loop turns on both sides; give it a bounded moment.
  const settled = Date.now() + 2000;
  while (Date.now() < settled && (await connections(gateway)) + upstream.openSockets() > 0) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  console.log(`gateway connections left: ${await connections(gateway)}`);
  console.log(`upstream sockets left:    ${upstream.openSockets()}`);

  await gateway.close({ graceSeconds: 1 });
  await upstream.close();
  // Closed servers leave the handle list on a later turn of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 100));
  console.log(`active handles after stop: ${JSON.stringify(process.getActiveResourcesInfo())}`);
}

await main();
