// Websocket load: connections that echo messages one at a time, and connections that sit idle.
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { WebSocket } from 'ws';
import type { LoadResult } from './load-http.js';
import { LatencyRecorder } from './stats.js';

/** A presence stanza's size: what Jitsi's XMPP websocket carries most. */
const MESSAGE = Buffer.alloc(200, 'x');
const OPENING_AT_ONCE = 500;

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Opens `count` websockets, a few hundred handshakes at a time. */
export async function openMany(url: string, count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  while (sockets.length < count) {
    const batch = Math.min(OPENING_AT_ONCE, count - sockets.length);
    sockets.push(...(await Promise.all(Array.from({ length: batch }, () => open(url)))));
  }
  for (const socket of sockets) socket.on('error', () => socket.terminate());
  return sockets;
}

export async function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          socket.terminate();
        }),
    ),
  );
}

export interface EchoLoad {
  url: string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** Pause between a reply and the next message; none: at once. */
  pauseMs?: number;
  /** Told when the measured window starts and ends. */
  window?: { start(): void; end(): void };
}

/**
 * Each connection sends a message, waits for its echo, and sends the next. Messages per second
 * counts echoes received during the measured window; the round trip is send to echo.
 */
export async function runEcho(load: EchoLoad): Promise<LoadResult> {
  const sockets = await openMany(load.url, load.connections);
  let latencies = new LatencyRecorder();
  let running = true;
  let closedEarly = 0;

  for (const socket of sockets) {
    socket.on('close', () => {
      if (running) closedEarly += 1;
    });
    let sentAt = 0;
    const sendNext = (): void => {
      if (!running || socket.readyState !== WebSocket.OPEN) return;
      sentAt = performance.now();
      socket.send(MESSAGE);
    };
    socket.on('message', () => {
      latencies.record(performance.now() - sentAt);
      if (load.pauseMs) setTimeout(sendNext, load.pauseMs);
      else sendNext();
    });
    sendNext();
  }

  await delay(load.warmupSeconds * 1000);
  latencies = new LatencyRecorder();
  load.window?.start();
  const started = performance.now();
  await delay(load.seconds * 1000);
  const measured = latencies;
  const seconds = (performance.now() - started) / 1000;
  load.window?.end();
  running = false;
  await closeAll(sockets);

  const { p50, p99 } = measured.percentiles();
  return {
    rate: measured.count / seconds,
    p50,
    p99,
    count: measured.count,
    failures: closedEarly,
    seconds,
  };
}
