// What a browser gets when Jitsi's web server is down or misbehaves, through the real listener.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type RunningGateway } from '../../src/server/index.js';
import { testConfig } from '../helpers/config.js';
import {
  closedPort,
  startFaultyUpstream,
  type FaultyUpstream,
} from '../helpers/faulty-upstream.js';
import { captureLog } from '../helpers/logs.js';

interface Answer {
  status: number;
  body: string;
  /** False when the connection closed before the whole body arrived. */
  complete: boolean;
}

/** One request on a connection of its own, closed after the answer. */
function get(gateway: RunningGateway, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gateway.url}${path}`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => undefined);
      res.once('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          complete: res.complete,
        }),
      );
    });
    req.once('error', reject);
    req.end();
  });
}

/** Resolves with how a websocket through the gateway ended: messages seen, then close. */
function openWebSocket(gateway: RunningGateway, path: string) {
  const ws = new WebSocket(`${gateway.url.replace('http', 'ws')}${path}`);
  const messages: string[] = [];
  let failed = false;
  ws.on('message', (data: Buffer) => messages.push(data.toString('utf8')));
  ws.on('error', () => (failed = true));
  return new Promise<{ messages: string[]; failed: boolean; code: number }>((resolve) =>
    ws.once('close', (code) => resolve({ messages, failed, code })),
  );
}

const STACK_TRACE = /\bat .+:\d+:\d+|Error:|node:internal/;

function expectPage(answer: Answer, status: number, title: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toContain(title);
  expect(answer.body).not.toMatch(STACK_TRACE);
}

let upstream: FaultyUpstream;
let gateway: RunningGateway;
let downGateway: RunningGateway;

beforeAll(async () => {
  upstream = await startFaultyUpstream();
  const env = { GATEWAY_UPSTREAM_TIMEOUT: '1', GATEWAY_UPSTREAM_LONG_POLL_TIMEOUT: '30' };
  gateway = await startGateway({
    config: testConfig({ ...env, GATEWAY_UPSTREAM_URL: upstream.url }),
    logger: captureLog().logger,
  });
  downGateway = await startGateway({
    config: testConfig({ ...env, GATEWAY_UPSTREAM_URL: `http://127.0.0.1:${await closedPort()}` }),
    logger: captureLog().logger,
  });
});

afterAll(async () => {
  upstream?.release();
  await Promise.all([gateway?.close({ graceSeconds: 0 }), downGateway?.close({ graceSeconds: 0 })]);
  await upstream?.close();
});

async function expectStillServing(): Promise<void> {
  const answer = await get(gateway, '/ok/after');
  expect(answer).toMatchObject({ status: 200, body: 'ok', complete: true });
}

describe('an upstream that fails a plain request', () => {
  it('answers 502 with a short page when the upstream is down', async () => {
    expectPage(await get(downGateway, '/room.css'), 502, 'Bad gateway');
    expectPage(await get(downGateway, '/room.css'), 502, 'Bad gateway');
  });

  it('answers 502 when the upstream resets every connection, and serves again once it stops', async () => {
    upstream.refuseConnections = true;
    try {
      expectPage(await get(gateway, '/ok/refused'), 502, 'Bad gateway');
    } finally {
      upstream.refuseConnections = false;
    }
    await expectStillServing();
  });

  it('closes the browser connection when the upstream drops mid-response', async () => {
    const answer = await get(gateway, '/cut/libs/app.bundle.js');

    expect(answer.status).toBe(200);
    expect(answer.complete).toBe(false);
    expect(answer.body).toBe('partial body');
    await expectStillServing();
  });

  it('answers 504 when the upstream never answers within the timeout', async () => {
    expectPage(await get(gateway, '/hang/config.js'), 504, 'Gateway timeout');
    await expectStillServing();
  });

  it('answers 502 when the upstream answers with bytes that are not HTTP', async () => {
    expectPage(await get(gateway, '/garbage/index.html'), 502, 'Bad gateway');
    await expectStillServing();
  });

  it('keeps a BOSH long-poll open past the ordinary timeout', async () => {
    const bosh = get(gateway, '/hold/http-bind?room=team');
    await upstream.held();
    // An ordinary request sent after the long-poll began times out first: by the time it
    // does, the long-poll has been held longer than the ordinary timeout.
    expectPage(await get(gateway, '/hang/after-bosh'), 504, 'Gateway timeout');
    upstream.release();

    expect(await bosh).toMatchObject({ status: 200, body: '<body/>', complete: true });
  });
});

describe('an upstream that fails a websocket', () => {
  it('closes the browser websocket when the upstream drops it mid-stream', async () => {
    const ended = await openWebSocket(gateway, '/ws/cut');

    expect(ended.messages).toEqual(['hello']);
    expect(ended.code).not.toBe(1000);
    await expectStillServing();
  });

  it('fails the browser websocket when the upstream refuses the upgrade', async () => {
    const ended = await openWebSocket(gateway, '/ws/refuse');

    expect(ended.failed).toBe(true);
    expect(ended.messages).toEqual([]);
    await expectStillServing();
  });

  it('fails the browser websocket when the upstream is down', async () => {
    const ended = await openWebSocket(downGateway, '/xmpp-websocket?room=team');

    expect(ended.failed).toBe(true);
  });
});

describe('after the faults', () => {
  it('holds no connection open on either side once the clients are gone', async () => {
    const connections = (running: RunningGateway) =>
      new Promise<number>((resolve, reject) =>
        running.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );

    await vi.waitFor(async () => {
      expect(await connections(gateway)).toBe(0);
      expect(await connections(downGateway)).toBe(0);
      expect(upstream.openSockets()).toBe(0);
    });
  });
});
