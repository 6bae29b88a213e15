// HTTPS and websocket clients that present a test client certificate to nginx.
import { readFile } from 'node:fs/promises';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { WebSocket } from 'ws';
import type { ClientName, Pki } from './certificates.js';

/** PEM contents, named as Node's TLS options name them. */
export interface TlsMaterial {
  readonly ca: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface NginxEndpoint {
  readonly port: number;
  readonly pki: Pki;
}

export interface RequestOptions {
  /** The client certificate to present; none when left out. */
  readonly client?: ClientName;
  readonly headers?: OutgoingHttpHeaders;
  readonly method?: string;
  readonly body?: string | Buffer;
}

export interface HttpsResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body decoded as UTF-8. */
  readonly body: string;
  readonly rawBody: Buffer;
}

/** Reads the test CA and, when a client is named, that client's certificate and key. */
export async function readTlsMaterial(pki: Pki, client?: ClientName): Promise<TlsMaterial> {
  const ca = await readFile(pki.caCert);
  if (client === undefined) return { ca };

  const [cert, key] = await Promise.all([
    readFile(pki.clients[client].cert),
    readFile(pki.clients[client].key),
  ]);
  return { ca, cert, key };
}

/**
 * Sends one request to nginx over TLS, trusting only the test CA, and returns the response
 * without following redirects. `path` is sent as given, so it must already be percent-encoded.
 * Rejects on a TLS or connection failure, not on an HTTP error status.
 */
export async function request(
  nginx: NginxEndpoint,
  path: string,
  options: RequestOptions = {},
): Promise<HttpsResponse> {
  const tls = await readTlsMaterial(nginx.pki, options.client);
  const headers: OutgoingHttpHeaders = { ...options.headers };
  if (options.body !== undefined && headers['content-length'] === undefined) {
    headers['content-length'] = Buffer.byteLength(options.body);
  }

  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest(
      {
        host: '127.0.0.1',
        port: nginx.port,
        path,
        method: options.method ?? 'GET',
        headers,
        ...tls,
        rejectUnauthorized: true,
        // A fresh connection each time, so that one test's certificate never serves another's.
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('error', reject);
        response.once('end', () => {
          const rawBody = Buffer.concat(chunks);
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: rawBody.toString('utf8'),
            rawBody,
          });
        });
      },
    );
    outgoing.once('error', reject);
    outgoing.end(options.body);
  });
}

/** `wss://127.0.0.1:<port><path>` for the given nginx. */
export function websocketUrl(nginx: NginxEndpoint, path: string): string {
  return `wss://127.0.0.1:${nginx.port}${path}`;
}

export interface OpenWebSocketOptions {
  readonly ca?: Buffer | string;
  readonly cert?: Buffer | string;
  readonly key?: Buffer | string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly protocols?: readonly string[];
}

export interface OpenWebSocket {
  readonly socket: WebSocket;
  /** The next message not yet taken, as UTF-8 text; messages that came early are queued. */
  nextMessage(): Promise<string>;
  /** Closes the websocket and waits until it is closed. Safe to call more than once. */
  close(): Promise<void>;
}

/** The status a server answered an upgrade request with, when it was not 101. */
export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`websocket upgrade answered ${status}`);
    this.name = 'UpgradeRefused';
  }
}

function closed(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();

  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/**
 * Opens a websocket (over TLS for `wss:` URLs, with the given PEM material) and resolves once
 * it is open. Rejects with `UpgradeRefused` when the server answers the upgrade with another
 * status, or with the socket's error.
 */
export function openWebSocket(
  url: string,
  options: OpenWebSocketOptions = {},
): Promise<OpenWebSocket> {
  const { protocols = [], headers, ...tls } = options;
  const socket = new WebSocket(url, [...protocols], { ...tls, headers });

  const queued: string[] = [];
  const waiting: ((message: string) => void)[] = [];
  socket.on('message', (data) => {
    // ws hands over a Buffer, a fragmented Buffer[], or an ArrayBuffer, depending on binaryType.
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : data instanceof ArrayBuffer
        ? Buffer.from(data)
        : data;
    const text = bytes.toString('utf8');
    const waiter = waiting.shift();
    if (waiter) waiter(text);
    else queued.push(text);
  });

  const handle: OpenWebSocket = {
    socket,
    nextMessage() {
      const message = queued.shift();
      if (message !== undefined) return Promise.resolve(message);

      return new Promise((resolve, reject) => {
        waiting.push(resolve);
        socket.once('close', (code) => reject(new Error(`websocket closed with ${code}`)));
      });
    },
    async close() {
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
      await closed(socket);
    },
  };

  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(handle));
    socket.once('unexpected-response', (outgoing, response) => {
      outgoing.destroy();
      reject(new UpgradeRefused(response.statusCode ?? 0));
    });
    // Kept for the socket's lifetime: an 'error' without a listener would crash the test run.
    socket.on('error', reject);
  });
}
