// HTTP/1.1 over a plain socket, for requests no client library would send: odd request
// targets, headers repeated on the wire, header names in any case, bytes sent one by one.
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export interface RawResponse {
  /** 0 when the server closed the connection without answering. */
  readonly status: number;
  /** Header lines as received, names lower-cased; repeated headers keep every value. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

export interface RawTarget {
  readonly port: number;
  readonly host?: string;
  /** The local address to connect from, e.g. 127.0.0.2 to play a peer that is not trusted. */
  readonly localAddress?: string;
  /** Speak TLS, trusting `ca` and presenting `cert` and `key` when given (PEM). */
  readonly tls?: { readonly ca: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

/** Opens a connection and resolves once it is established; rejects on a connection error. */
export function openSocket(target: RawTarget): Promise<Socket> {
  const options = {
    port: target.port,
    host: target.host ?? '127.0.0.1',
    ...(target.localAddress !== undefined && { localAddress: target.localAddress }),
  };
  return new Promise((resolve, reject) => {
    const socket = target.tls ? connectTls({ ...options, ...target.tls }) : connect(options);
    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves with everything the server sent once the connection has closed. */
export function readUntilClose(socket: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset after the server answered still leaves its answer readable.
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Splits a response as received; a response cut short keeps what arrived. */
export function parseResponse(raw: Buffer): RawResponse {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  const headers = lines
    .filter((line) => line.includes(':'))
    .map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
  return {
    status: status === undefined ? 0 : Number(status),
    headers,
    body: end === -1 ? '' : text.slice(end + 4),
  };
}

/**
 * Sends `head` (request line and header lines, without the blank line that ends them) with
 * `Connection: close` added, then `body`, and resolves with the response once the server closes.
 */
export async function sendRaw(target: RawTarget, head: string, body = ''): Promise<RawResponse> {
  const socket = await openSocket(target);
  const received = readUntilClose(socket);
  socket.write(Buffer.from(`${head}\r\nConnection: close\r\n\r\n${body}`, 'latin1'));
  return parseResponse(await received);
}

/** Every value of one header, by lower-case name. */
export function headerValues(response: RawResponse, name: string): string[] {
  return response.headers.filter(([key]) => key === name).map(([, value]) => value);
}
