// An upstream on 127.0.0.1 that misbehaves on request. The first path segment picks the fault,
// so one server covers every case:
//   /ok/...           200 with a short body and `Connection: close`
//   /hang/...         accepts the request and never answers
//   /cut/...          sends headers and part of the body, then destroys the socket
//   /garbage/...      answers with bytes that are not HTTP, then closes
//   /hold/http-bind   holds the request (a BOSH long-poll) until release() is called
// Websocket upgrades: /ws/cut accepts, sends one message and then drops the connection;
// /ws/refuse answers 403 instead of switching protocols.
// `refuseConnections` makes it reset every new connection before reading a byte.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export interface FaultyUpstream {
  url: string;
  port: number;
  /** While true, every new connection is reset at once. */
  refuseConnections: boolean;
  /** Connections currently open on the upstream's side. */
  openSockets(): number;
  /** Resolves once a held request has arrived. */
  held(): Promise<void>;
  /** Answers every held request with 200. */
  release(): void;
  close(): Promise<void>;
}

export async function startFaultyUpstream(): Promise<FaultyUpstream> {
  const sockets = new Set<Socket>();
  const holding: ServerResponse[] = [];
  let onHeld: (() => void) | undefined;
  const wss = new WebSocketServer({ noServer: true });

  const server: Server = createServer((req, res) => {
    const fault = (req.url ?? '/').split('/')[1] ?? '';
    switch (fault) {
      case 'ok':
        res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'close' }).end('ok');
        return;
      case 'hang':
        return;
      case 'cut':
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '1000' });
        res.write('partial body', () => req.socket.destroy());
        return;
      case 'garbage':
        req.socket.end('\x00\x01 this is not HTTP at all \xff\r\n\r\n');
        return;
      case 'hold':
        holding.push(res);
        onHeld?.();
        return;
      default:
        res.writeHead(404, { Connection: 'close' }).end();
    }
  });
  server.on('connection', (socket: Socket) => {
    if (upstream.refuseConnections) {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    if (req.url !== '/ws/cut') {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send('hello', () => ws.terminate());
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const upstream: FaultyUpstream = {
    url: `http://127.0.0.1:${port}`,
    port,
    refuseConnections: false,
    openSockets: () => sockets.size,
    held: () =>
      holding.length > 0 ? Promise.resolve() : new Promise((resolve) => (onHeld = resolve)),
    release() {
      for (const res of holding.splice(0)) {
        res.writeHead(200, { 'Content-Type': 'text/xml', Connection: 'close' }).end('<body/>');
      }
    },
    close: () =>
      new Promise((resolve) => {
        wss.close();
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return upstream;
}

/** A port on 127.0.0.1 that nothing listens on: an upstream that is down. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
