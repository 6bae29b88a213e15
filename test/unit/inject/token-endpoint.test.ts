import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFixture } from '../../helpers/fixtures.js';
import {
  claimsIn,
  markerCookie,
  NAVIGATE,
  startGatewayApps,
  type GatewayApps,
} from '../../helpers/gateway-app.js';

const ENDPOINT = '/_gateway/token-auth';
const alice = readFixture('plain').headers;
const carol = readFixture('multival').headers;
const guest = readFixture('nocert').headers;

let apps: GatewayApps;
beforeAll(async () => {
  apps = await startGatewayApps();
});
afterEach(() => apps.reset());
afterAll(async () => {
  await apps.close();
});

/** What Jitsi's getTokenAuthUrl puts for `{state}`. */
function state(value: Record<string, unknown>): string {
  return encodeURIComponent(JSON.stringify(value));
}

describe('the token endpoint for tokenAuthUrl', () => {
  it('redirects a holder back to the room named by {room} with a fresh token', async () => {
    const response = await request(apps.app())
      .get(`${ENDPOINT}?room=Team%20Sync`)
      .set({ ...alice, ...NAVIGATE });

    expect(response.status).toBe(302);
    expect(response.headers.location).toMatch(/^\/Team%20Sync\?jwt=[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(await claimsIn(response.headers.location as string)).toMatchObject({
      room: 'team%20sync',
      sub: 'meet.jitsi',
      context: { user: { name: 'Alice Example' } },
    });
    expect(apps.upstream.requests).toHaveLength(0);
  });

  it('redirects to the tenant and room named by {state}', async () => {
    const query = state({ room: 'Weekly%20Sync', roomSafe: 'weekly%20sync', tenant: 'Acme' });
    const response = await request(apps.app())
      .get(`${ENDPOINT}?state=${query}`)
      .set({ ...alice, ...NAVIGATE });

    expect(response.headers.location).toMatch(/^\/Acme\/Weekly%20Sync\?jwt=/);
    expect(await claimsIn(response.headers.location as string)).toMatchObject({
      room: 'weekly%20sync',
      sub: 'acme',
    });
  });

  it('hands over a token that the room page then passes to Jitsi', async () => {
    const app = apps.app();
    const first = await request(app)
      .get(`${ENDPOINT}?room=Daily`)
      .set({ ...alice, ...NAVIGATE });
    const page = await request(app)
      .get(first.headers.location as string)
      .set({ ...alice, ...NAVIGATE, Cookie: markerCookie(first) });

    expect(page.status).toBe(200);
    expect(apps.upstream.requests.map((seen) => seen.url)).toEqual([first.headers.location]);
  });

  it('puts the token in the fragment when the fragment is chosen', async () => {
    const response = await request(apps.app({ GATEWAY_TOKEN_PLACEMENT: 'fragment' }))
      .get(`${ENDPOINT}?room=Daily`)
      .set({ ...alice, ...NAVIGATE });

    expect(response.headers.location).toMatch(/^\/Daily#jwt=%22[\w-]+\.[\w-]+\.[\w-]+%22$/);
    expect(await claimsIn(response.headers.location as string)).toMatchObject({ room: 'daily' });
  });

  it('answers on the configured path only', async () => {
    const app = apps.app({ GATEWAY_TOKEN_ENDPOINT_PATH: '/_sso/jitsi/token' });
    const moved = await request(app)
      .get('/_sso/jitsi/token?room=Daily')
      .set({ ...alice, ...NAVIGATE });
    const old = await request(app)
      .get(`${ENDPOINT}?room=Daily`)
      .set({ ...alice, ...NAVIGATE });

    expect(moved.headers.location).toMatch(/^\/Daily\?jwt=/);
    expect(old.headers.location ?? '').not.toMatch(/^\/Daily/);
  });

  it('refuses a guest with a 403 page instead of sending them back to Jitsi', async () => {
    const response = await request(apps.app())
      .get(`${ENDPOINT}?room=Daily`)
      .set({ ...guest, ...NAVIGATE });

    expect(response.status).toBe(403);
    expect(response.headers.location).toBeUndefined();
    expect(response.text).toContain('This meeting needs a client certificate.');
  });

  it('refuses a holder with a malformed subject DN with a 400 page', async () => {
    const response = await request(apps.app())
      .get(`${ENDPOINT}?room=Daily`)
      .set({ ...alice, ...NAVIGATE, 'X-SSL-Client-S-DN': 'CN=Broken\\' });

    expect(response.status).toBe(400);
    expect(response.text).toContain('subject DN');
  });

  it('refuses a holder the rules refuse with a 403 page giving the reason', async () => {
    const rules = [{ when: { subject: { OU: 'Admins' } }, refuse: 'admins use the admin site' }];
    const response = await request(apps.app({ GATEWAY_RULES: JSON.stringify(rules) }))
      .get(`${ENDPOINT}?room=Daily`)
      .set({ ...carol, ...NAVIGATE });

    expect(response.status).toBe(403);
    expect(response.headers.location).toBeUndefined();
    expect(response.text).toContain(
      'This site does not accept your certificate: admins use the admin site',
    );
    expect(apps.log().lines()).toContainEqual(
      expect.objectContaining({ decision: 'refuse', reason: 'holder-refused', rule: 0 }),
    );
  });

  it('stops handing out tokens for a room when they keep not reaching the meeting', async () => {
    const app = apps.app();
    const statuses: number[] = [];
    for (let visit = 0; visit < 4; visit += 1) {
      const response = await request(app)
        .get(`${ENDPOINT}?room=Daily`)
        .set({ ...alice, ...NAVIGATE });
      statuses.push(response.status);
    }

    expect(statuses).toEqual([302, 302, 302, 403]);
  });

  it('answers 405 to anything but GET and HEAD', async () => {
    const response = await request(apps.app())
      .post(`${ENDPOINT}?room=Daily`)
      .set({ ...alice });

    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
  });
});

describe('the token endpoint never redirects off the site', () => {
  it.each([
    ['a protocol-relative room', 'room=//evil.example'],
    ['a backslash room', 'room=/%5Cevil.example'],
    ['an absolute URL', 'room=https://evil.example/room'],
    ['an encoded slash', 'room=%2F%2Fevil.example'],
    ['CR and LF', 'room=Daily%0D%0ALocation:%20https://evil.example'],
    ['a dot segment', 'room=..'],
    ['a tenant with a host', `state=${state({ room: 'Daily', tenant: '//evil.example' })}`],
    ['a tenant with a slash', `state=${state({ room: 'Daily', tenant: 'evil.example/x' })}`],
    ['no room at all', 'next=https://evil.example'],
  ])('answers %s with a 400 page and no Location', async (_name, query) => {
    const response = await request(apps.app())
      .get(`${ENDPOINT}?${query}`)
      .set({ ...alice, ...NAVIGATE });

    expect(response.status).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.text).toContain('This sign-in link does not name a meeting room.');
    expect(response.text).not.toContain('evil');
  });
});
