import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/index.js';
import { GOING_AWAY } from '../../../src/server/websocket-frames.js';
import { createWebSocketRegistry } from '../../../src/server/websockets.js';

let servers: Server[] = [];
let sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  servers = [];
  sockets = [];
});

/** Two ends of one real TCP connection on 127.0.0.1: [accepted, connecting]. */
async function connection(): Promise<[Socket, Socket]> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const connecting = connect(port, '127.0.0.1');
  const pair: [Socket, Socket] = [await accepted, connecting];
  sockets.push(...pair);
  return pair;
}

/** Collects what a socket receives; `received(n)` waits until n bytes are in. */
function collect(socket: Socket) {
  let bytes = Buffer.alloc(0);
  const waiting: { length: number; resolve: () => void }[] = [];
  socket.on('data', (chunk: Buffer) => {
    bytes = Buffer.concat([bytes, chunk]);
    for (const waiter of waiting.filter((w) => bytes.length >= w.length)) waiter.resolve();
  });
  return {
    bytes: () => bytes,
    received: (length: number) =>
      bytes.length >= length
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiting.push({ length, resolve })),
    // 'close' comes after either a clean end or a reset; a reset must not fail the run.
    ended: new Promise<void>((resolve) => {
      socket.on('error', () => undefined);
      socket.once('close', () => resolve());
    }),
  };
}

/**
 * A browser, the gateway's two sockets joined as the proxy joins them, and the upstream; the
 * registry tracks the joined pair.
 */
async function proxiedWebSocket() {
  const [gatewayClient, browser] = await connection();
  const [upstream, gatewayUpstream] = await connection();
  gatewayUpstream.pipe(gatewayClient).pipe(gatewayUpstream);
  const metrics = createMetrics();
  const registry = createWebSocketRegistry(metrics);
  registry.track(gatewayClient, gatewayUpstream);
  return {
    browser,
    upstream,
    registry,
    metrics,
    atBrowser: collect(browser),
    atUpstream: collect(upstream),
  };
}

function textFrame(length: number): Buffer {
  const header = length < 126 ? Buffer.from([0x81, length]) : Buffer.from([0x81, 126, 0, 0]);
  if (length >= 126) header.writeUInt16BE(length, 2);
  return Buffer.concat([header, Buffer.alloc(length, 0x62)]);
}

const BROWSER_CLOSE = Buffer.from([0x88, 0x02, 0x03, 0xe9]);

describe('closing proxied websockets at shutdown', () => {
  it('sends the browser and the upstream a close frame with code 1001', async () => {
    const { registry, atBrowser, atUpstream, browser } = await proxiedWebSocket();
    browser.write(textFrame(3));
    await atUpstream.received(5);

    await registry.closeAll(GOING_AWAY);

    expect(atBrowser.bytes()).toEqual(BROWSER_CLOSE);
    const upstreamClose = atUpstream.bytes().subarray(5);
    expect(upstreamClose.subarray(0, 2)).toEqual(Buffer.from([0x88, 0x82]));
    const mask = upstreamClose.subarray(2, 6);
    const code = upstreamClose.subarray(6).map((byte, i) => byte ^ (mask[i] as number));
    expect(Buffer.from(code).readUInt16BE(0)).toBe(GOING_AWAY);
    expect(registry.count()).toBe(0);
  });

  it('lets a frame under way finish before the close frame, and sends nothing after it', async () => {
    const { registry, atBrowser, upstream } = await proxiedWebSocket();
    const frame = textFrame(300);
    upstream.write(frame.subarray(0, 100));
    await atBrowser.received(100);

    const closed = registry.closeAll(GOING_AWAY);
    upstream.write(Buffer.concat([frame.subarray(100), textFrame(5)]));
    await closed;

    expect(atBrowser.bytes()).toEqual(Buffer.concat([frame, BROWSER_CLOSE]));
  });

  it('counts open websockets in the websockets_open gauge', async () => {
    const { registry, metrics } = await proxiedWebSocket();
    const gauge = () =>
      metrics.registry.getSingleMetricAsString('jitsi_cert_gateway_websockets_open');
    expect(await gauge()).toMatch(/^jitsi_cert_gateway_websockets_open 1$/m);

    await registry.closeAll(GOING_AWAY);
    expect(await gauge()).toMatch(/^jitsi_cert_gateway_websockets_open 0$/m);
  });

  it('cuts websockets without a close frame when told to destroy them', async () => {
    const { registry, atBrowser } = await proxiedWebSocket();
    registry.destroyAll();
    await atBrowser.ended;
    expect(atBrowser.bytes()).toEqual(Buffer.alloc(0));
  });
});
