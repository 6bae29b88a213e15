// A marker that was altered, replayed, kept too long or signed with a retired secret counts as
// no marker: the holder is redirected as on a first visit, and the log says why at warn.
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { createGateway } from '../../../src/server/index.js';
import { TEST_COOKIE_SECRET, testConfig } from '../../helpers/config.js';
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js';
import { readFixture } from '../../helpers/fixtures.js';
import { captureLog, type CapturedLog } from '../../helpers/logs.js';

const NOW = 1_800_000_000;
const LOOP_WINDOW = 30;
const MAX_AGE = 600;
const NAVIGATE = { 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' };
const NEW_SECRET = 'the-rotated-cookie-secret-that-is-long-enough';
const alice = readFixture('plain').headers;
const bob = readFixture('utf8').headers;

let upstream: EchoUpstream;
let log: CapturedLog;
let gateways: ReturnType<typeof createGateway>[] = [];

beforeAll(async () => {
  upstream = await startEchoUpstream();
});
beforeEach(() => {
  log = captureLog();
});
afterAll(async () => {
  await upstream.close();
});
afterEach(() => {
  for (const gateway of gateways) gateway.proxy.close();
  gateways = [];
});

/** One gateway process at a fixed time, logging to this test's log. */
function gatewayAt(now: number, env: Record<string, string> = {}) {
  const gateway = createGateway({
    config: testConfig({ GATEWAY_UPSTREAM_URL: upstream.url, ...env }),
    logger: log.logger,
    clock: () => now,
  });
  gateways.push(gateway);
  return gateway.handleRequest;
}

function markerOf(response: request.Response): string {
  const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const marker = cookies.find((cookie) => cookie.startsWith('jcg_marker='));
  if (!marker) throw new Error('the response set no marker cookie');
  return marker.split(';')[0] as string;
}

/** The marker of a first redirect of `holder` to `path`, at `now`. */
async function markerFrom(path: string, now = NOW, env = {}, holder = alice): Promise<string> {
  const response = await request(gatewayAt(now, env))
    .get(path)
    .set({ ...holder, ...NAVIGATE });
  expect(response.status).toBe(302);
  return markerOf(response);
}

/** A tokenless visit with `cookie`: 200 when the marker was honoured as a loop, else 302. */
function revisit(path: string, cookie: string, now = NOW, env = {}, holder = alice) {
  return request(gatewayAt(now, env))
    .get(path)
    .set({ ...holder, ...NAVIGATE, Cookie: cookie });
}

/** Applies `change` to the decoded cookie value `s:<marker>.<signature>` and encodes it again. */
function tamper(cookie: string, change: (value: string) => string): string {
  const [name, value] = cookie.split('=') as [string, string];
  return `${name}=${encodeURIComponent(change(decodeURIComponent(value)))}`;
}

function warnings(reason: string): Record<string, unknown>[] {
  return log.lines().filter((line) => line.level === 40 && line.reason === reason);
}

describe('a valid marker', () => {
  it('passes the page through as a loop when it comes back without the token', async () => {
    const cookie = await markerFrom('/valid');
    const response = await revisit('/valid', cookie);

    expect(response.status).toBe(200);
    expect(log.lines()).toContainEqual(expect.objectContaining({ reason: 'loop-broken' }));
  });
});

describe('a tampered marker', () => {
  it.each<[string, (value: string) => string, string]>([
    ['its state changed', (v) => v.replace(/^s:s\./, 's:a.'), 'marker-signature-invalid'],
    [
      'its time changed',
      (v) => v.replace(/^s:s\.\d+/, `s:s.${NOW - 1}`),
      'marker-signature-invalid',
    ],
    [
      'its subject changed',
      (v) => v.replace(/\.[0-9a-f]{32}\./, `.${'0'.repeat(32)}.`),
      'marker-signature-invalid',
    ],
    [
      'its signature changed',
      (v) => `${v.slice(0, -2)}${v.endsWith('AA') ? 'BB' : 'AA'}`,
      'marker-signature-invalid',
    ],
    ['its signature removed', (v) => v.slice(0, v.lastIndexOf('.')), 'marker-signature-invalid'],
    ['its signing prefix removed', (v) => v.slice(2), 'marker-unsigned'],
    [
      'its value replaced by signed text of our own',
      () => 's:hello.world',
      'marker-signature-invalid',
    ],
  ])('is handled as no marker, with %s', async (_name, change, reason) => {
    const cookie = tamper(await markerFrom('/tampered'), change);
    const response = await revisit('/tampered', cookie);

    expect(response.status).toBe(302);
    expect(response.headers.location).toMatch(/^\/tampered\?jwt=/);
    expect(warnings(reason)).toHaveLength(1);
    expect(log.text()).not.toContain(decodeURIComponent(cookie.split('=')[1] as string));
  });
});

describe('a replayed marker', () => {
  it('is handled as no marker in another room', async () => {
    const cookie = await markerFrom('/room-one');
    const response = await revisit('/room-two', cookie);

    expect(response.status).toBe(302);
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ reason: 'marker-other-subject', level: 20 }),
    );
  });

  it('is handled as no marker for another holder', async () => {
    const cookie = await markerFrom('/shared-room');
    const response = await revisit('/shared-room', cookie, NOW, {}, bob);

    expect(response.status).toBe(302);
    expect(log.lines()).toContainEqual(expect.objectContaining({ reason: 'marker-other-subject' }));
  });

  it('is handled as no marker once older than its maximum age', async () => {
    const cookie = await markerFrom('/kept');
    const response = await revisit('/kept', cookie, NOW + MAX_AGE + 1);

    expect(response.status).toBe(302);
    expect(warnings('marker-expired')).toHaveLength(1);
  });

  it('still counts as the redirect it records until its maximum age, but no longer as a loop', async () => {
    const cookie = await markerFrom('/late');
    const inWindow = await revisit('/late', cookie, NOW + LOOP_WINDOW - 1);
    const afterWindow = await revisit('/late', cookie, NOW + LOOP_WINDOW);

    expect(inWindow.status).toBe(200);
    expect(afterWindow.status).toBe(302);
    expect(
      log.lines().filter((line) => line.level === 40 && line.reason !== 'loop-broken'),
    ).toEqual([]);
  });

  it('is handled as no marker when it was issued in the future', async () => {
    const cookie = await markerFrom('/future', NOW + 3_600);
    const response = await revisit('/future', cookie, NOW);

    expect(response.status).toBe(302);
    expect(warnings('marker-expired')).toHaveLength(1);
  });
});

describe('a marker signed before the cookie secret was rotated', () => {
  const rotated = { GATEWAY_COOKIE_SECRET: NEW_SECRET };
  const grace = (until: number) => ({
    ...rotated,
    GATEWAY_PREVIOUS_COOKIE_SECRETS: TEST_COOKIE_SECRET,
    GATEWAY_PREVIOUS_COOKIE_SECRETS_UNTIL: new Date(until * 1000).toISOString(),
  });

  it('is honoured during the grace period', async () => {
    const cookie = await markerFrom('/rotation');
    const response = await revisit('/rotation', cookie, NOW + 1, grace(NOW + 3_600));

    expect(response.status).toBe(200);
    expect(log.lines()).toContainEqual(expect.objectContaining({ reason: 'loop-broken' }));
  });

  it('is handled as no marker once the grace period has ended', async () => {
    const cookie = await markerFrom('/rotation');
    const response = await revisit('/rotation', cookie, NOW + 1, grace(NOW));

    expect(response.status).toBe(302);
    expect(warnings('marker-old-secret')).toHaveLength(1);
  });

  it('is handled as no marker without a grace period', async () => {
    const cookie = await markerFrom('/rotation');
    const response = await revisit('/rotation', cookie, NOW + 1, rotated);

    expect(response.status).toBe(302);
    expect(warnings('marker-signature-invalid')).toHaveLength(1);
  });

  it('is replaced by one signed with the new secret, which the new secret alone accepts', async () => {
    const before = await markerFrom('/renewed');
    const redirect = await revisit('/renewed', before, NOW + LOOP_WINDOW, grace(NOW + 3_600));
    expect(redirect.status).toBe(302);

    const after = markerOf(redirect);
    const looped = await revisit('/renewed', after, NOW + LOOP_WINDOW + 1, rotated);
    expect(looped.status).toBe(200);
  });
});

describe('the settings of a rotation', () => {
  it('refuses previous secrets without the end of their grace period', () => {
    const result = loadConfig({
      env: {
        JWT_APP_SECRET: NEW_SECRET,
        GATEWAY_COOKIE_SECRET: NEW_SECRET,
        GATEWAY_PREVIOUS_COOKIE_SECRETS: TEST_COOKIE_SECRET,
      },
    });

    expect(result).toEqual({
      ok: false,
      problems: [
        'inject.previousCookieSecretsUntil (GATEWAY_PREVIOUS_COOKIE_SECRETS_UNTIL): is required when inject.previousCookieSecrets is set',
      ],
    });
  });

  it('refuses a short previous secret without quoting it', () => {
    const result = loadConfig({
      env: {
        JWT_APP_SECRET: NEW_SECRET,
        GATEWAY_COOKIE_SECRET: NEW_SECRET,
        GATEWAY_PREVIOUS_COOKIE_SECRETS: `${TEST_COOKIE_SECRET},short-old-secret`,
        GATEWAY_PREVIOUS_COOKIE_SECRETS_UNTIL: '2027-01-01T00:00:00Z',
      },
    });

    expect(result).toEqual({
      ok: false,
      problems: ['inject.previousCookieSecrets.1: must be at least 32 characters long'],
    });
  });

  it('refuses an end of the grace period that is not an ISO 8601 time', () => {
    const result = loadConfig({
      env: {
        JWT_APP_SECRET: NEW_SECRET,
        GATEWAY_COOKIE_SECRET: NEW_SECRET,
        GATEWAY_PREVIOUS_COOKIE_SECRETS: TEST_COOKIE_SECRET,
        GATEWAY_PREVIOUS_COOKIE_SECRETS_UNTIL: 'next week',
      },
    });

    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatch(/^inject\.previousCookieSecretsUntil /);
  });
});
