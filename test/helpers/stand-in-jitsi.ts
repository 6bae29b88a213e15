// A stand-in for the Jitsi Meet web server that records and reflects what reached it.
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { roomPage } from './stand-in-room-page.js';

export interface ReceivedRequest {
  readonly method: string;
  /** The request target exactly as sent: path and query, still percent-encoded. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Name/value pairs in arrival order; shows duplicates that `headers` would join. */
  readonly rawHeaders: readonly string[];
  readonly body: string;
  readonly websocket: boolean;
}

export interface StandInJitsi {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every request and websocket upgrade, in the order they arrived. */
  readonly requests: ReceivedRequest[];
  /**
   * Ends the open websockets whose `room` query parameter is `room` (the room node, as sent)
   * from the server side, as a restarting Prosody does: Jitsi's client sees a connection error.
   * Returns how many it ended.
   */
  dropWebsockets(room: string): number;
  /** The `token` of every websocket upgrade for `room` (the room node, as sent), oldest first. */
  tokensSent(room: string): string[];
  /** Closes open websockets and connections, then the server. Safe to call more than once. */
  close(): Promise<void>;
}

/** 100 KiB with a repeating, checkable pattern. */
export const STATIC_BIN_BYTES = 100 * 1024;

const CONFIG_JS = "var config = { hosts: { domain: 'meet.jitsi', muc: 'muc.meet.jitsi' } };\n";
const APP_BUNDLE_JS = "window.JitsiMeetStandIn = { version: 'stand-in' };\n";
const JAVASCRIPT = 'application/javascript; charset=utf-8';

// Paths Jitsi serves websockets on: XMPP (also under a tenant) and the bridge channel.
const WEBSOCKET_PATH = /^\/(?:[^/]+\/)?xmpp-websocket$|^\/colibri-ws\//;
const BOSH_PATH = /^\/(?:[^/]+\/)?http-bind$/;
// Jitsi's nginx serves its room page for `/<room>` and `/<tenant>/<room>` (JITSI.md section 3).
const ROOM_PATH = /^\/(?:[^/?&:'"]+\/)?[^/?&:'"]+$/;
const NOT_ROOMS =
  /(?:^|\/)(?:config\.js|interface_config\.js|external_api\.js|http-bind|xmpp-websocket|favicon\.ico)$|^\/(?:libs|css|static|images)\//;

function record(request: IncomingMessage, body: string, websocket: boolean): ReceivedRequest {
  return {
    method: request.method ?? '',
    url: request.url ?? '',
    headers: request.headers,
    rawHeaders: request.rawHeaders,
    body,
    websocket,
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

/** A query parameter exactly as sent: Jitsi sends the room node percent-encoded. */
function rawParameter(url: string, name: 'room' | 'token'): string | undefined {
  return new RegExp(`[?&]${name}=([^&#]*)`).exec(url)?.[1];
}

function pathOf(url: string): string {
  return new URL(url, 'http://stand-in').pathname;
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer) {
  response.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

function staticBin(): Buffer {
  const bytes = Buffer.alloc(STATIC_BIN_BYTES);
  for (let index = 0; index < bytes.length; index += 1) bytes[index] = index % 251;
  return bytes;
}

// `<` is escaped so that nothing a client sends can close the script element.
function escapedJson(received: ReceivedRequest): string {
  return JSON.stringify(received).replace(/</g, '\\u003c');
}

function isRoomPath(path: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return false;
  }
  return ROOM_PATH.test(decoded) && !NOT_ROOMS.test(decoded);
}

function reflectionPage(received: ReceivedRequest): string {
  const json = escapedJson(received);
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Jitsi stand-in</title></head>
<body>
<script id="received" type="application/json">${json}</script>
</body>
</html>
`;
}

/**
 * Starts the stand-in on a free port of 127.0.0.1. Room pages and any other GET return an HTML
 * page embedding what was received (as JSON in `<script id="received">`, or plain JSON for
 * `Accept: application/json`); a room page's HTML also runs a script that joins the room over
 * the websocket the way Jitsi's client does (stand-in-room-page.ts). `/config.js`,
 * `/libs/app.bundle.min.js` and `/static/100k.bin` are static; POST `/http-bind?hold=<ms>`
 * echoes its body after that delay; websockets on `/xmpp-websocket`, `/<tenant>/xmpp-websocket`
 * and `/colibri-ws/...` first send a JSON description of the upgrade request, then echo every
 * message.
 */
export async function startStandInJitsi(): Promise<StandInJitsi> {
  const requests: ReceivedRequest[] = [];
  const holds = new Set<NodeJS.Timeout>();
  // Upgraded sockets leave the HTTP server's bookkeeping, so closeAllConnections() misses them.
  const upgraded = new Set<Socket>();
  const bin = staticBin();

  const server = createServer((request, response) => {
    // A request aborted before its body ended (the gateway cut a slow client) gets no answer.
    readBody(request).then(
      (body) => {
        const received = record(request, body, false);
        requests.push(received);
        respond(received, response);
      },
      () => response.destroy(),
    );
  });

  function respond(received: ReceivedRequest, response: ServerResponse) {
    const path = pathOf(received.url);

    if (received.method === 'POST' && BOSH_PATH.test(path)) {
      const hold = Number(new URL(received.url, 'http://stand-in').searchParams.get('hold') ?? 0);
      const timer = setTimeout(() => {
        holds.delete(timer);
        send(response, 200, 'text/xml; charset=utf-8', received.body);
      }, hold);
      holds.add(timer);
      return;
    }

    if (path === '/config.js') return send(response, 200, JAVASCRIPT, CONFIG_JS);

    if (path === '/libs/app.bundle.min.js') return send(response, 200, JAVASCRIPT, APP_BUNDLE_JS);

    if (path === '/static/100k.bin') return send(response, 200, 'application/octet-stream', bin);

    if (received.headers.accept?.includes('application/json')) {
      return send(response, 200, 'application/json; charset=utf-8', JSON.stringify(received));
    }
    const page = isRoomPath(path) ? roomPage(escapedJson(received)) : reflectionPage(received);
    send(response, 200, 'text/html; charset=utf-8', page);
  }

  const wss = new WebSocketServer({ noServer: true });
  const rooms = new WeakMap<WebSocket, string | undefined>();
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    requests.push(record(request, '', true));
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    if (!WEBSOCKET_PATH.test(pathOf(request.url ?? '/'))) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }

    wss.handleUpgrade(request, socket, head, (ws) => {
      rooms.set(ws, rawParameter(request.url ?? '', 'room'));
      ws.send(JSON.stringify({ type: 'upgrade', url: request.url, headers: request.headers }));
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      for (const timer of holds) clearTimeout(timer);
      for (const ws of wss.clients) ws.terminate();
      for (const socket of upgraded) socket.destroy();
      wss.close();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };

  const dropWebsockets = (room: string) => {
    const dropped = [...wss.clients].filter((ws) => rooms.get(ws) === room);
    for (const ws of dropped) ws.terminate();
    return dropped.length;
  };

  const tokensSent = (room: string) =>
    requests
      .filter((seen) => seen.websocket && rawParameter(seen.url, 'room') === room)
      .map((seen) => rawParameter(seen.url, 'token') ?? '');

  return { port, url: `http://127.0.0.1:${port}`, requests, dropWebsockets, tokensSent, close };
}
