// The demo room page server on its own: what a visitor sees for each kind of token.
import { request as httpRequest } from 'node:http';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoRoomServer, type DemoRoomServer } from '../../src/demo/index.js';

const SECRET = 'demo-room-server-secret-long-enough-0123';

let server: DemoRoomServer;

beforeAll(async () => {
  server = await startDemoRoomServer({ secret: SECRET });
});

afterAll(async () => {
  await server?.close();
});

function signed(name: string, secret = SECRET): Promise<string> {
  return new SignJWT({ room: 'team%20sync', context: { user: { name } } })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
}

function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ type: string; body: string }>((resolve, reject) => {
    const outgoing = httpRequest(`${server.url}${path}`, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.once('end', () => resolve({ type: response.headers['content-type'] ?? '', body }));
    });
    outgoing.once('error', reject);
    outgoing.end();
  });
}

describe('the demo room page server', () => {
  it('greets the holder a verified token names, with its claims', async () => {
    const page = await get(`/Team%20Sync?jwt=${await signed('Alice Example')}`);

    expect(page.type).toMatch(/^text\/plain/);
    expect(page.body).toContain('Hello, Alice Example.');
    expect(page.body).toContain("The token's signature verifies with the gateway's secret.");
    expect(page.body).toContain('"room": "team%20sync"');
  });

  it('says so when a token does not verify with the gateway secret', async () => {
    const forged = await signed('Mallory', 'another-secret-that-is-long-enough-0123');
    const page = await get(`/Team%20Sync?jwt=${forged}`);

    expect(page.body).toContain("The token's signature does NOT verify with the gateway's secret.");
  });

  it('says a jwt parameter holds no readable token when it is not one', async () => {
    const page = await get('/Team%20Sync?jwt=123');

    expect(page.body).toContain('The jwt parameter holds no readable token.');
  });

  it('reads the last jwt parameter, as Jitsi does', async () => {
    const page = await get(`/Team%20Sync?jwt=123&jwt=${await signed('Alice Example')}`);

    expect(page.body).toContain('Hello, Alice Example.');
  });

  it('names the identity headers that reached it', async () => {
    const page = await get('/Team%20Sync', { 'X-SSL-Client-Verify': 'SUCCESS' });

    expect(page.body).toContain('Identity headers that reached this page: x-ssl-client-verify.');
  });

  it('escapes what a token says in the page a browser gets', async () => {
    const token = await signed('<script>alert(1)</script>');
    const page = await get(`/Team%20Sync?jwt=${token}`, { accept: 'text/html' });

    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('Hello, &#60;script&#62;alert(1)&#60;/script&#62;.');
    expect(page.body).not.toContain('<script>');
  });
});
