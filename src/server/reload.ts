import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from './app.js';

/**
 * The HTTP server's request listener, in front of a gateway that can be replaced while the
 * server runs. A reload builds a new gateway from the new config and swaps it in: new requests
 * go to it, requests already under way finish on the old one, and the old one's upstream
 * connections are closed once its last request is done. Websockets are not touched.
 */
export interface ReloadableHandler {
  current(): Gateway;
  handle(req: IncomingMessage, res: ServerResponse): void;
  swap(next: Gateway): void;
  /** Requests under way, on every gateway still in use. */
  inFlight(): number;
  /** Closes the upstream connections of every gateway, at the end of a shutdown. */
  close(): void;
}

interface Generation {
  gateway: Gateway;
  inFlight: number;
  retired: boolean;
}

/** `afterResponse` runs whenever a response has closed, finished or not. */
export function createReloadableHandler(
  initial: Gateway,
  afterResponse: () => void,
): ReloadableHandler {
  let current: Generation = { gateway: initial, inFlight: 0, retired: false };
  const live = new Set<Generation>([current]);

  const retireIfDone = (generation: Generation): void => {
    if (!generation.retired || generation.inFlight > 0) return;

    live.delete(generation);
    generation.gateway.proxy.close();
  };

  return {
    current: () => current.gateway,
    handle(req, res) {
      const generation = current;
      generation.inFlight += 1;
      res.once('close', () => {
        generation.inFlight -= 1;
        retireIfDone(generation);
        afterResponse();
      });
      generation.gateway.handleRequest(req, res);
    },
    swap(next) {
      const previous = current;
      current = { gateway: next, inFlight: 0, retired: false };
      live.add(current);
      previous.retired = true;
      retireIfDone(previous);
    },
    inFlight: () => [...live].reduce((total, generation) => total + generation.inFlight, 0),
    close() {
      for (const generation of live) generation.gateway.proxy.close();
    },
  };
}
