// A stand-in for the Jitsi web server and Prosody, lean enough not to be what a figure measures.
// Usage: node upstream.js <port>
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';

const SMALL_FILE = Buffer.alloc(1024, 'a');
const LARGE_FILE = Buffer.alloc(100 * 1024, 'b');
/** About the size of the head of Jitsi's index.html that a room page load returns first. */
const ROOM_PAGE = Buffer.from(
  `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Jitsi Meet</title>${'<script src="libs/x.js"></script>'.repeat(100)}</head><body></body></html>\n`,
);
const HOLD = /[?&]hold=(\d+)/;

function send(res: ServerResponse, type: string, body: Buffer): void {
  res.writeHead(200, ['Content-Type', type, 'Content-Length', String(body.length)]);
  res.end(body);
}

function answerBosh(req: IncomingMessage, res: ServerResponse): void {
  const hold = Number(HOLD.exec(req.url ?? '')?.[1] ?? 0);
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    setTimeout(() => send(res, 'text/xml; charset=utf-8', Buffer.concat(chunks)), hold);
  });
}

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'POST') return answerBosh(req, res);
  if (url === '/static/1k.bin') return send(res, 'application/octet-stream', SMALL_FILE);
  if (url === '/static/100k.bin') return send(res, 'application/octet-stream', LARGE_FILE);
  send(res, 'text/html; charset=utf-8', ROOM_PAGE);
});
server.keepAliveTimeout = 60_000;

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
  socket.on('error', () => socket.destroy());
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
});

server.listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
