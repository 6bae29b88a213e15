import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { createGateway, type Gateway } from './app.js';

export interface RunningGateway extends Gateway {
  server: Server;
  port: number;
  /** `http://host:port`, for tests and the startup log. */
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  config: Readonly<Config>;
  logger: Logger;
  clock?: () => number;
}

/**
 * Binds the listen address and wires websocket upgrades to the proxy explicitly: a Jitsi client
 * reconnecting to a restarted gateway sends a websocket before any plain request.
 */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const gateway = createGateway(options);
  const server = createServer(gateway.handleRequest);
  // Upgraded sockets leave the server's connection list; keep them to close them at shutdown.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, socket, head) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    gateway.proxy.upgrade(req, socket as Socket, head);
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const { host, port } = options.config.listen;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    ...gateway,
    server,
    port: address.port,
    url: `http://${hostForUrl}:${address.port}`,
    close: () => closeServer(server, gateway, upgraded),
  };
}

function closeServer(server: Server, gateway: Gateway, upgraded: Set<Duplex>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
    for (const socket of upgraded) socket.destroy();
    gateway.proxy.close();
  });
}
