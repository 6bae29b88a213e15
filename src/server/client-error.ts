import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * What a client hears when its request never reaches express: Node's parser refused it, or it
 * did not arrive within `limits.headersTimeoutSeconds` or `limits.requestTimeoutSeconds`.
 * Node's own default answers these codes the same way; ours adds a one-line body.
 */
const ANSWERS: Readonly<Record<string, readonly [string, string]>> = {
  HPE_HEADER_OVERFLOW: [
    '431 Request Header Fields Too Large',
    'The request headers are too large.',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: ['408 Request Timeout', 'The request did not arrive in time.'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: ['413 Payload Too Large', 'The request body is malformed.'],
};
const BAD_REQUEST = ['400 Bad Request', 'The request cannot be read.'] as const;

/**
 * The server's `clientError` listener: answers with a status and closes the connection, or
 * only closes it when the peer is gone or a response has already begun on it. Never throws.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const written = (socket as Partial<Socket>).bytesWritten ?? 0;
  if (!socket.writable || written > 0 || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }

  const [statusLine, message] = ANSWERS[error.code ?? ''] ?? BAD_REQUEST;
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${statusLine}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
