// Another site that embeds a Jitsi room in an iframe, as chat integrations do.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EmbeddingSite {
  /** `http://localhost:<port>/`: a different site from `https://127.0.0.1:<nginx port>`. */
  readonly url: string;
  close(): Promise<void>;
}

function escapeAttribute(text: string): string {
  return text.replace(/[&"<>]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Serves one page whose iframe shows `frameUrl`, on a free port of 127.0.0.1. */
export async function startEmbeddingSite(frameUrl: string): Promise<EmbeddingSite> {
  const body = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Team chat</title></head>
<body>
<h1>Team chat</h1>
<iframe id="meeting" src="${escapeAttribute(frameUrl)}" width="640" height="480"
  allow="camera; microphone; fullscreen"></iframe>
</body>
</html>
`;
  const server = createServer((_request, response) => {
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://localhost:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
