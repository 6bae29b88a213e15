import type { Socket } from 'node:net';
import type { GatewayMetrics } from '../metrics/index.js';
import { closeFrame, createFrameBoundary, type FrameBoundary } from './websocket-frames.js';

/**
 * The open websockets, with what it takes to end them properly at shutdown. The proxy joins the
 * browser's socket and the upstream's socket as raw byte pipes, so the gateway must write the
 * close frames itself, and only between two frames, or the close frame would land inside one.
 */
export interface WebSocketRegistry {
  /** Follows a websocket the proxy has just joined; call before any byte flows. */
  track(client: Socket, upstream: Socket): void;
  count(): number;
  /**
   * Sends a close frame with `code` to the browser and to the upstream, each at the next frame
   * boundary, and resolves once every websocket is closed. Websockets tracked later are closed
   * the same way at once.
   */
  closeAll(code: number): Promise<void>;
  /** Cuts every websocket without a close frame, for when the grace period is over. */
  destroyAll(): void;
}

interface Direction {
  source: Socket;
  destination: Socket;
  /** Frames towards the upstream are masked. */
  masked: boolean;
  boundary: FrameBoundary;
  state: 'open' | 'closing' | 'closed';
  code: number;
}

interface Pair {
  toClient: Direction;
  toUpstream: Direction;
  /** Set by closeAll, which alone waits: a promise per websocket would be held all its life. */
  onClosed?: () => void;
}

export function createWebSocketRegistry(metrics: GatewayMetrics): WebSocketRegistry {
  const pairs = new Set<Pair>();
  let closingWith: number | undefined;

  return {
    track(client, upstream) {
      const pair: Pair = {
        toClient: follow(upstream, client, false),
        toUpstream: follow(client, upstream, true),
      };
      pairs.add(pair);
      metrics.websocketOpened();
      // 'close' comes once: `once` would add a wrapper to each of thousands of idle sockets.
      client.on('close', () => {
        pairs.delete(pair);
        metrics.websocketClosed();
        pair.onClosed?.();
      });
      if (closingWith !== undefined) closePair(pair, closingWith);
    },
    count: () => pairs.size,
    async closeAll(code) {
      closingWith = code;
      const closed = [...pairs].map(
        (pair) => new Promise<void>((resolve) => (pair.onClosed = resolve)),
      );
      for (const pair of pairs) closePair(pair, code);
      await Promise.all(closed);
    },
    destroyAll() {
      for (const pair of pairs) {
        pair.toClient.source.destroy();
        pair.toClient.destination.destroy();
      }
    },
  };
}

/** Watches the bytes from `source` to `destination` that the proxy's pipe carries. */
function follow(source: Socket, destination: Socket, masked: boolean): Direction {
  const direction: Direction = {
    source,
    destination,
    masked,
    boundary: createFrameBoundary(),
    state: 'open',
    code: 0,
  };
  source.on('data', (chunk: Buffer) => {
    if (direction.state === 'open') {
      direction.boundary.consume(chunk);
      return;
    }
    if (direction.state === 'closed') return;

    // Closing: pass on the rest of the frame under way, then the close frame, then nothing.
    const taken = direction.boundary.consume(chunk, true);
    if (taken > 0 && destination.writable) destination.write(chunk.subarray(0, taken));
    if (direction.boundary.atBoundary()) finish(direction);
  });
  return direction;
}

function closePair(pair: Pair, code: number): void {
  for (const direction of [pair.toClient, pair.toUpstream]) {
    if (direction.state !== 'open') continue;

    direction.state = 'closing';
    direction.code = code;
    direction.source.unpipe(direction.destination);
    // unpipe() pauses the source; it must keep flowing to finish the frame and to read the
    // other side's own close frame and end of stream.
    direction.source.resume();
    if (direction.boundary.atBoundary()) finish(direction);
  }
}

function finish(direction: Direction): void {
  direction.state = 'closed';
  const { destination } = direction;
  if (destination.writable) destination.end(closeFrame(direction.code, direction.masked));
  else destination.destroy();
}
