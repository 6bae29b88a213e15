import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ReloadableHandler } from './reload.js';
import { GOING_AWAY } from './websocket-frames.js';
import type { WebSocketRegistry } from './websockets.js';

export interface ShutdownParts {
  server: Server;
  metricsServer?: Server;
  handler: ReloadableHandler;
  websockets: WebSocketRegistry;
  /** Every upgraded socket, also those whose upstream handshake is still under way. */
  upgraded: Set<Duplex>;
}

export interface ShutdownReport {
  /** Requests and websockets still open when the grace period ran out, and cut. */
  requestsCut: number;
  websocketsCut: number;
}

/**
 * Stops accepting connections, closes websockets with 1001 (going away), and lets requests
 * under way (BOSH polls included) finish for up to `graceSeconds`; whatever is left then is cut.
 * Idle keep-alive connections are closed by `server.close()`, busy ones as their response ends
 * (the caller closes idle connections after each response while draining).
 */
export async function shutDown(
  parts: ShutdownParts,
  graceSeconds: number,
): Promise<ShutdownReport> {
  const { server, handler, websockets } = parts;
  const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  const drained = Promise.all([serverClosed, websockets.closeAll(GOING_AWAY)]);

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), graceSeconds * 1000);
  });
  const outcome = await Promise.race([drained.then(() => 'drained' as const), deadline]);
  clearTimeout(timer);

  const report: ShutdownReport = { requestsCut: 0, websocketsCut: 0 };
  if (outcome === 'deadline') {
    report.requestsCut = handler.inFlight();
    report.websocketsCut = parts.upgraded.size;
    server.closeAllConnections();
    websockets.destroyAll();
    for (const socket of parts.upgraded) socket.destroy();
    await serverClosed;
  }

  if (parts.metricsServer) await closeNow(parts.metricsServer);
  handler.close();
  return report;
}

function closeNow(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
