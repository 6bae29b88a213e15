// The floor for any Node reverse proxy: node:http, a keep-alive agent, bodies piped, nothing else.
// Usage: node minimal-proxy.js <port> <upstream port>
import { Agent, createServer, request } from 'node:http';
import type { Socket } from 'node:net';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const agent = new Agent({ keepAlive: true });

const server = createServer((req, res) => {
  const upstreamReq = request(
    {
      host: '127.0.0.1',
      port: upstreamPort,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    },
    (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    },
  );
  upstreamReq.on('error', () => res.writeHead(502).end());
  req.pipe(upstreamReq);
});

server.on('upgrade', (req, socket: Socket, head: Buffer) => {
  socket.on('error', () => socket.destroy());
  const upstreamReq = request({
    host: '127.0.0.1',
    port: upstreamPort,
    method: req.method,
    path: req.url,
    headers: req.headers,
  });
  upstreamReq.on('upgrade', (upstreamRes, upstreamSocket: Socket) => {
    let head101 = 'HTTP/1.1 101 Switching Protocols\r\n';
    for (let index = 0; index < upstreamRes.rawHeaders.length; index += 2) {
      head101 += `${upstreamRes.rawHeaders[index]}: ${upstreamRes.rawHeaders[index + 1]}\r\n`;
    }
    socket.write(`${head101}\r\n`);
    if (head.length > 0) upstreamSocket.write(head);
    upstreamSocket.on('error', () => socket.destroy());
    socket.on('close', () => upstreamSocket.destroy());
    upstreamSocket.pipe(socket).pipe(upstreamSocket);
  });
  upstreamReq.on('error', () => socket.destroy());
  upstreamReq.end();
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
