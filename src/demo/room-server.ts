// A stand-in for Jitsi's room pages, for trying the gateway: it shows who arrived and with
// which token. Never part of the gateway's request path.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, jwtVerify, type JWTPayload } from 'jose';

export interface DemoRoomServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Closes the server and its open connections. Safe to call more than once. */
  close(): Promise<void>;
}

export interface DemoRoomServerOptions {
  /** The gateway's token secret, to say whether a token verifies. */
  readonly secret: string;
  /** 0 picks a free port. */
  readonly port?: number;
}

type Signature = 'verified' | 'not-verified';

interface Arrival {
  readonly path: string;
  readonly claims?: JWTPayload;
  readonly signature?: Signature;
  /** Names of X-SSL-Client-* headers that reached the page; the gateway should leave none. */
  readonly identityHeaders: readonly string[];
}

/** The last `jwt` parameter wins, as in Jitsi's own page (JITSI.md section 1). */
function tokenOf(url: URL): string | undefined {
  return url.searchParams.getAll('jwt').at(-1);
}

async function readArrival(request: IncomingMessage, secret: Uint8Array): Promise<Arrival> {
  const url = new URL(request.url ?? '/', 'http://demo.invalid');
  const identityHeaders = Object.keys(request.headers).filter((name) =>
    name.startsWith('x-ssl-client-'),
  );
  const token = tokenOf(url);
  if (token === undefined) return { path: url.pathname, identityHeaders };

  try {
    const { payload } = await jwtVerify(token, secret);
    return { path: url.pathname, claims: payload, signature: 'verified', identityHeaders };
  } catch {
    return { path: url.pathname, ...decodeUnverified(token), identityHeaders };
  }
}

function decodeUnverified(token: string): Pick<Arrival, 'claims' | 'signature'> {
  try {
    return { claims: decodeJwt(token), signature: 'not-verified' };
  } catch {
    return { signature: 'not-verified' };
  }
}

function nameIn(claims: JWTPayload): string {
  const context = claims.context as { user?: { name?: unknown; email?: unknown } } | undefined;
  const name = typeof context?.user?.name === 'string' ? context.user.name : 'someone';
  const email = context?.user?.email;
  return typeof email === 'string' ? `${name} <${email}>` : name;
}

function isoTime(seconds: unknown): string {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : 'not set';
}

/** The page as plain text: what curl shows. */
function describeArrival(arrival: Arrival): string {
  const lines = [`Demo room page ${arrival.path}`, ''];
  const { claims } = arrival;
  if (!claims) {
    lines.push(
      arrival.signature === 'not-verified'
        ? 'The jwt parameter holds no readable token.'
        : 'No token: Jitsi would let this visitor in as a guest, if the site allows guests.',
    );
  } else {
    lines.push(
      `Hello, ${nameIn(claims)}.`,
      '',
      arrival.signature === 'verified'
        ? "The token's signature verifies with the gateway's secret."
        : "The token's signature does NOT verify with the gateway's secret.",
      `Valid from ${isoTime(claims.nbf)} until ${isoTime(claims.exp)}. Its claims:`,
      '',
      JSON.stringify(claims, null, 2),
    );
  }
  const headers = arrival.identityHeaders;
  lines.push('', `Identity headers that reached this page: ${headers.join(', ') || 'none'}.`);
  return `${lines.join('\n')}\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function send(request: IncomingMessage, response: ServerResponse, text: string): void {
  const html = request.headers.accept?.includes('text/html') ?? false;
  const body = html
    ? `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo room page</title>` +
      `</head><body><pre>${escapeHtml(text)}</pre></body></html>\n`
    : text;
  response.writeHead(200, {
    'Content-Type': html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  response.end(body);
}

/**
 * Starts the demo room page server on 127.0.0.1. Every GET answers with who arrived: the
 * claims of the `jwt` parameter (decoded, and whether it verifies with `secret`), or that the
 * visitor is a guest; as HTML for browsers and plain text otherwise. Rejects when the port
 * cannot be bound.
 */
export async function startDemoRoomServer(options: DemoRoomServerOptions): Promise<DemoRoomServer> {
  const secret = new TextEncoder().encode(options.secret);
  const server = createServer((request, response) => {
    readArrival(request, secret).then(
      (arrival) => send(request, response, describeArrival(arrival)),
      () => response.destroy(),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  return { url: `http://127.0.0.1:${port}`, close };
}
