// Handing the token over in the fragment, in a real browser with a client certificate: what
// the page ends up with, what reaches the servers, and how it differs from the query.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/index.js';
import { makePki, type Pki } from '../helpers/certificates.js';
import { TEST_APP_SECRET, testConfig } from '../helpers/config.js';
import { parseJwtLikeJitsi } from '../helpers/jitsi-url.js';
import { captureLog } from '../helpers/logs.js';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';
import { startStandInJitsi, type StandInJitsi } from '../helpers/stand-in-jitsi.js';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Site {
  gateway: RunningGateway;
  nginx: RunningNginx;
}

let pki: Pki;
let jitsi: StandInJitsi;
let browser: Browser;
let fragmentSite: Site;
let querySite: Site;
let contexts: BrowserContext[] = [];

async function startSite(placement: 'query' | 'fragment'): Promise<Site> {
  const gateway = await startGateway({
    config: testConfig({ GATEWAY_UPSTREAM_URL: jitsi.url, GATEWAY_TOKEN_PLACEMENT: placement }),
    logger: captureLog().logger,
  });
  const nginx = await startNginx({ pki, gatewayPort: gateway.port, verifyClient: 'optional' });
  return { gateway, nginx };
}

beforeAll(async () => {
  [pki, jitsi, browser] = await Promise.all([
    makePki(),
    startStandInJitsi(),
    chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS }),
  ]);
  [fragmentSite, querySite] = await Promise.all([startSite('fragment'), startSite('query')]);
});

afterEach(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  contexts = [];
});

afterAll(async () => {
  await browser?.close();
  for (const site of [fragmentSite, querySite]) {
    await site?.nginx.stop();
    await site?.gateway.close();
  }
  await jitsi?.close();
  await pki?.cleanup();
});

/** Alice's browser: her certificate for this site, and a record of every response status. */
async function openAsAlice(site: Site) {
  const context = await browser.newContext({
    clientCertificates: [
      {
        origin: site.nginx.origin,
        certPath: pki.clients.alice.cert,
        keyPath: pki.clients.alice.key,
      },
    ],
    ignoreHTTPSErrors: true,
  });
  contexts.push(context);
  const page = await context.newPage();
  const statuses: number[] = [];
  page.on('response', (response) => {
    if (response.request().isNavigationRequest()) statuses.push(response.status());
  });
  return { page, statuses };
}

async function verifiedRoom(href: string): Promise<unknown> {
  const token = parseJwtLikeJitsi(href) ?? '';
  const { payload } = await jwtVerify(token, new TextEncoder().encode(TEST_APP_SECRET));
  return payload.room;
}

describe('the token in the fragment, in a browser', () => {
  it('lands once on the room with the token in the fragment, which no server saw', async () => {
    const { page, statuses } = await openAsAlice(fragmentSite);
    const origin = fragmentSite.nginx.origin;

    await page.goto(`${origin}/Team%20Sync?lang=de#config.startWithAudioMuted=true`);

    const landed = new URL(page.url());
    expect(statuses).toEqual([302, 200]);
    expect(landed.pathname + landed.search).toBe('/Team%20Sync?lang=de');
    expect(landed.hash).toMatch(/^#jwt=%22[\w-]+\.[\w-]+\.[\w-]+%22$/);
    expect(await verifiedRoom(page.url())).toBe('team%20sync');

    // The cost: the fragment the browser had is replaced.
    expect(landed.hash).not.toContain('startWithAudioMuted');

    const token = parseJwtLikeJitsi(page.url()) as string;
    const seenByJitsi = jitsi.requests.filter((seen) => seen.url.startsWith('/Team%20Sync'));
    expect(seenByJitsi.map((seen) => seen.url)).toEqual(['/Team%20Sync?lang=de']);
    const accessLog = await readFile(join(fragmentSite.nginx.dir, 'access.log'), 'utf8');
    expect(accessLog).toContain('/Team%20Sync?lang=de');
    expect(accessLog).not.toContain(token);
  });
});

describe('the token in the query, in a browser', () => {
  it('keeps the fragment the browser had across the redirect', async () => {
    const { page, statuses } = await openAsAlice(querySite);
    const origin = querySite.nginx.origin;

    await page.goto(`${origin}/Board?lang=de#config.startWithAudioMuted=true`);

    const landed = new URL(page.url());
    expect(statuses).toEqual([302, 200]);
    expect(landed.hash).toBe('#config.startWithAudioMuted=true');
    expect(await verifiedRoom(page.url())).toBe('board');
  });
});
