// What a person sees in a real browser driving the whole chain (Chromium with a client
// certificate, nginx, the gateway, a stand-in Jitsi whose room page treats the token as Jitsi's
// does): one redirect with a token, never a redirect loop, and a fresh token on every reload.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jwtVerify, type JWTPayload } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/index.js';
import {
  launchBrowser,
  launchCookieRefusingBrowser,
  newPersonContext,
  recordNavigations,
  type NavigationLog,
} from '../helpers/browser.js';
import { makePki, type ClientName, type Pki } from '../helpers/certificates.js';
import { TEST_APP_SECRET, testConfig } from '../helpers/config.js';
import { startEmbeddingSite } from '../helpers/embedding-site.js';
import { captureLog, type CapturedLog } from '../helpers/logs.js';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';
import { startStandInJitsi, type StandInJitsi } from '../helpers/stand-in-jitsi.js';
import { JOINED, readRoomPage, RELOAD_SWITCH } from '../helpers/stand-in-room-page.js';

const SCREENSHOT = fileURLToPath(new URL('../../test-output/holder-in-room.png', import.meta.url));
/** A proxy rule that sends any URL carrying `jwt` back to the same path without its query. */
const STRIP_TOKEN = 'absolute_redirect off;\n      if ($arg_jwt) { return 302 $uri; }';
/** Long enough for a slow CI machine, short enough to fail before the test times out. */
const BROWSER_TIMEOUT_MS = 15_000;

const config = testConfig();
/** Moved forward by scenarios in which time passes for the person (a reload minutes later). */
let clockOffsetSeconds = 0;
const clock = (): number => Math.floor(Date.now() / 1000) + clockOffsetSeconds;

let pki: Pki | undefined;
let jitsi: StandInJitsi | undefined;
let browser: Browser | undefined;
let gateway: RunningGateway | undefined;
let refusingGateway: RunningGateway | undefined;
let nginx: RunningNginx | undefined;
let strippingNginx: RunningNginx | undefined;
let refusingNginx: RunningNginx | undefined;
const log: CapturedLog = captureLog();
/** What each test opened, closed after it whether it passed or not. */
const opened: (() => Promise<unknown>)[] = [];

// beforeAll assigns these before any test runs; a failed start fails the suite first.
const started = () => ({
  jitsi: jitsi!,
  browser: browser!,
  nginx: nginx!,
  strippingNginx: strippingNginx!,
  refusingNginx: refusingNginx!,
});

/** Waits for every start, even after one fails, so that afterAll can stop all that started. */
async function startAll(...starts: Promise<unknown>[]): Promise<void> {
  const failure = (await Promise.allSettled(starts)).find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}

beforeAll(async () => {
  await startAll(
    makePki().then((made) => (pki = made)),
    startStandInJitsi().then((standIn) => (jitsi = standIn)),
    launchBrowser().then((launched) => (browser = launched)),
  );
  const upstream = { GATEWAY_UPSTREAM_URL: jitsi!.url }; // startAll resolved: jitsi is set
  await startAll(
    startGateway({ config: testConfig(upstream), logger: log.logger, clock }).then(
      (running) => (gateway = running),
    ),
    startGateway({
      config: testConfig({ ...upstream, GATEWAY_GUESTS: 'refuse' }),
      logger: captureLog().logger,
    }).then((running) => (refusingGateway = running)),
  );
  const front = { pki: pki!, verifyClient: 'optional' as const };
  await startAll(
    startNginx({ ...front, gatewayPort: gateway!.port }).then((running) => (nginx = running)),
    startNginx({ ...front, gatewayPort: gateway!.port, extraLocationDirectives: STRIP_TOKEN }).then(
      (running) => (strippingNginx = running),
    ),
    startNginx({ ...front, gatewayPort: refusingGateway!.port }).then(
      (running) => (refusingNginx = running),
    ),
  );
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((close) => close()));
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([nginx?.stop(), strippingNginx?.stop(), refusingNginx?.stop()]);
  await Promise.all([gateway?.close(), refusingGateway?.close()]);
  await jitsi?.close();
  await pki?.cleanup();
});

interface Person {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly navigations: NavigationLog;
}

/** A new browser context, as a person with `client`'s certificate (or none) would open. */
async function personWith(client?: ClientName, front = started().nginx): Promise<Person> {
  const context = await newPersonContext(started().browser, front, client);
  opened.push(() => context.close());
  return watch(context);
}

async function watch(context: BrowserContext): Promise<Person> {
  context.setDefaultTimeout(BROWSER_TIMEOUT_MS);
  const navigations = recordNavigations(context);
  const page = await context.newPage();
  return { context, page, navigations };
}

/** Opens `url` and waits until the room page says the person is in the meeting. */
async function join(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator(JOINED).waitFor();
}

/** Verifies a token as Prosody would, at the gateway's time, and returns its claims. */
async function claimsOf(token: string): Promise<JWTPayload> {
  const key = new TextEncoder().encode(TEST_APP_SECRET);
  const { payload } = await jwtVerify(token, key, { currentDate: new Date(clock() * 1000) });
  return payload;
}

/** Redirects made by the gateway: the ones that add a token. */
function tokenRedirects(navigations: NavigationLog) {
  return navigations.redirects().filter((entry) => entry.location?.includes('jwt=') === true);
}

function decisionsFor(room: string): Record<string, unknown>[] {
  return log.lines().filter((line) => line.room === room && line.decision !== undefined);
}

/** Resolves when the next page (not a redirect) arrives in `page`. */
function pageLoaded(page: Page): Promise<unknown> {
  return page.waitForResponse(
    (response) => response.request().isNavigationRequest() && response.status() === 200,
  );
}

describe('a holder in a real browser', () => {
  it('is redirected once and sees their own name in the room, with a clean address bar', async () => {
    const alice = await personWith('alice');
    await join(alice.page, `${started().nginx.origin}/Team%20Sync`);

    expect(alice.navigations.redirects()).toHaveLength(1);
    expect(await readRoomPage(alice.page)).toMatchObject({
      who: 'Alice Example',
      email: 'alice@example.org',
      room: 'team%20sync',
      token: 'from the link',
    });
    expect(alice.page.url()).toBe(`${started().nginx.origin}/Team%20Sync`);
    const [token] = started().jitsi.tokensSent('team%20sync');
    expect(await claimsOf(token ?? '')).toMatchObject({ room: 'team%20sync', sub: 'meet.jitsi' });

    await mkdir(dirname(SCREENSHOT), { recursive: true });
    await alice.page.screenshot({ path: SCREENSHOT });
  });

  it('gets one new redirect and a new token on F5, and is the same person in the same room', async () => {
    const alice = await personWith('alice');
    await join(alice.page, `${started().nginx.origin}/Reload%20Me`);
    const [first] = started().jitsi.tokensSent('reload%20me');

    // A few seconds later, well inside the loop window: the marker says the token arrived.
    clockOffsetSeconds += 5;
    await alice.page.reload();
    await alice.page.locator(JOINED).waitFor();

    expect(alice.navigations.redirects()).toHaveLength(2);
    expect(await readRoomPage(alice.page)).toMatchObject({
      who: 'Alice Example',
      room: 'reload%20me',
    });
    const [, second] = started().jitsi.tokensSent('reload%20me');
    const [before, after] = await Promise.all([claimsOf(first ?? ''), claimsOf(second ?? '')]);
    expect(after.iat).toBeGreaterThan(before.iat ?? Infinity);
    expect(after).toMatchObject({ room: 'reload%20me', context: before.context });
    expect(alice.page.url()).toBe(`${started().nginx.origin}/Reload%20Me`);
  });

  it('gets the stale token replaced once when Jitsi reloads itself with the original URL', async () => {
    const alice = await personWith('alice');
    await join(alice.page, `${started().nginx.origin}/Flaky?${RELOAD_SWITCH}=1`);

    // Later than the token's lifetime, the connection drops; Jitsi goes back to the URL it was
    // opened with, whose token has expired by now.
    clockOffsetSeconds += config.token.lifetimeSeconds + 60;
    const reloaded = pageLoaded(alice.page);
    expect(started().jitsi.dropWebsockets('flaky')).toBe(1);
    await reloaded;
    await alice.page.locator(JOINED).waitFor();

    expect(alice.navigations.redirects()).toHaveLength(2);
    const [first, second] = started().jitsi.tokensSent('flaky');
    expect(second).not.toBe(first);
    await expect(claimsOf(first ?? '')).rejects.toThrow(/exp/);
    expect(await claimsOf(second ?? '')).toMatchObject({ room: 'flaky' });
    expect(await readRoomPage(alice.page)).toMatchObject({ who: 'Alice Example', room: 'flaky' });
    expect(decisionsFor('flaky').map((line) => line.reason)).toEqual([
      'no-token',
      'token-usable',
      'token-replaced',
      'token-usable',
    ]);
  });

  it('shows each of two holders their own name on the same plain link', async () => {
    const [alice, bob] = await Promise.all([personWith('alice'), personWith('bob')]);
    await join(alice.page, `${started().nginx.origin}/Shared%20Room`);
    const copied = alice.page.url();
    await join(bob.page, copied);

    expect(copied).toBe(`${started().nginx.origin}/Shared%20Room`);
    expect(bob.navigations.redirects()).toHaveLength(1);
    expect(await readRoomPage(bob.page)).toMatchObject({
      who: 'Bob Builder',
      room: 'shared%20room',
    });
    expect(await readRoomPage(alice.page)).toMatchObject({
      who: 'Alice Example',
      room: 'shared%20room',
    });
  });

  it('shows a second holder their own name on a link that still carries the first one’s token', async () => {
    const [alice, bob] = await Promise.all([personWith('alice'), personWith('bob')]);
    await join(alice.page, `${started().nginx.origin}/Handed%20On`);
    const withAlicesToken = alice.navigations.responses.at(-1)?.url ?? '';
    await join(bob.page, withAlicesToken);

    expect(withAlicesToken).toContain('jwt=');
    expect(bob.navigations.redirects()).toHaveLength(1);
    expect(await readRoomPage(bob.page)).toMatchObject({ who: 'Bob Builder', room: 'handed%20on' });
  });

  it('keeps configuration overrides from the fragment across the redirect', async () => {
    const alice = await personWith('alice');
    await join(alice.page, `${started().nginx.origin}/Quiet#config.startWithAudioMuted=true`);

    expect(alice.navigations.redirects()).toHaveLength(1);
    expect(await readRoomPage(alice.page)).toMatchObject({
      who: 'Alice Example',
      overrides: 'config.startWithAudioMuted=true',
    });
  });
});

describe('the loop guard in a real browser', () => {
  it('stops after one redirect when a proxy strips the token, and loads the page without one', async () => {
    const alice = await personWith('alice', started().strippingNginx);
    await join(alice.page, `${started().strippingNginx.origin}/Stripped`);

    expect(tokenRedirects(alice.navigations)).toHaveLength(1);
    // The gateway's redirect and the proxy's, then the page.
    expect(alice.navigations.redirects()).toHaveLength(2);
    expect(await readRoomPage(alice.page)).toMatchObject({
      who: 'Guest',
      token: 'none: joining as a guest',
    });
    expect(decisionsFor('stripped')).toContainEqual(
      expect.objectContaining({ decision: 'pass', reason: 'loop-broken' }),
    );
  });

  it('ends the loop within the backstop limit in a browser that refuses all cookies', async () => {
    const refusing = await launchCookieRefusingBrowser(started().strippingNginx, 'alice');
    opened.push(() => refusing.close());
    const alice = await watch(refusing.context);
    await join(alice.page, `${started().strippingNginx.origin}/No%20Cookies`);

    expect(await refusing.context.cookies()).toEqual([]);
    expect(tokenRedirects(alice.navigations)).toHaveLength(config.inject.backstopMaxRedirects);
    expect(await readRoomPage(alice.page)).toMatchObject({ who: 'Guest' });
    expect(decisionsFor('no%20cookies')).toContainEqual(
      expect.objectContaining({ decision: 'pass', reason: 'backstop' }),
    );
  });

  it('ends a loop in a cross-site iframe, where no marker is stored, within the backstop limit', async () => {
    const site = await startEmbeddingSite(`${started().strippingNginx.origin}/Embedded%20Loop`);
    opened.push(() => site.close());
    const bob = await personWith('bob', started().strippingNginx);
    await bob.page.goto(site.url);
    const frame = bob.page.frameLocator('#meeting');
    await frame.locator(JOINED).waitFor();

    expect(tokenRedirects(bob.navigations)).toHaveLength(config.inject.backstopMaxRedirects);
    expect(await readRoomPage(frame)).toMatchObject({ who: 'Guest' });
    expect(decisionsFor('embedded%20loop')).toContainEqual(
      expect.objectContaining({ decision: 'pass', reason: 'backstop' }),
    );
  });
});

describe('Jitsi embedded in an iframe on another site', () => {
  it('loads the room with a token after one redirect of the iframe, keeping no cookie', async () => {
    const site = await startEmbeddingSite(`${started().nginx.origin}/Embedded`);
    opened.push(() => site.close());
    const bob = await personWith('bob');
    await bob.page.goto(site.url);
    const frame = bob.page.frameLocator('#meeting');
    await frame.locator(JOINED).waitFor();

    expect(bob.navigations.redirects()).toEqual([expect.objectContaining({ frame: 'iframe' })]);
    expect(await readRoomPage(frame)).toMatchObject({ who: 'Bob Builder', token: 'from the link' });
    // A SameSite=Lax cookie is never stored from a cross-site frame: the marker was not needed.
    expect(await bob.context.cookies()).toEqual([]);
  });
});

describe('a browser without a certificate', () => {
  it('joins the room as a guest, without a redirect', async () => {
    const guest = await personWith();
    await join(guest.page, `${started().nginx.origin}/Open%20Door`);

    expect(guest.navigations.redirects()).toEqual([]);
    expect(await readRoomPage(guest.page)).toMatchObject({
      who: 'Guest',
      room: 'open%20door',
      token: 'none: joining as a guest',
    });
  });

  it('sees the refusal page, without a redirect, when guests are refused', async () => {
    const guest = await personWith(undefined, started().refusingNginx);
    const response = await guest.page.goto(`${started().refusingNginx.origin}/Closed%20Door`);

    expect(response?.status()).toBe(403);
    expect(guest.navigations.redirects()).toEqual([]);
    expect(await guest.page.locator('h1').textContent()).toBe('Access refused');
    expect(await guest.page.locator('p').textContent()).toBe(
      'This meeting needs a client certificate.',
    );
  });
});
