import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tokenLocation } from '../../../src/inject/handover.js';
import { readFixture } from '../../helpers/fixtures.js';
import {
  claimsIn,
  markerCookie,
  NAVIGATE,
  NOW,
  startGatewayApps,
  type GatewayApps,
} from '../../helpers/gateway-app.js';
import { parseJwtLikeJitsi } from '../../helpers/jitsi-url.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb29tIjoieCJ9.c2lnbmF0dXJl';

describe('the Location that hands the token over', () => {
  it('puts the token in the query by default, replacing any jwt there', () => {
    expect(tokenLocation('/Team%20Sync', 'lang=de&jwt=old', TOKEN, 'query')).toBe(
      `/Team%20Sync?lang=de&jwt=${TOKEN}`,
    );
  });

  it('puts the token JSON-quoted in the fragment and drops jwt from the query', () => {
    const location = tokenLocation('/Team%20Sync', 'lang=de&jwt=old&jwt=older', TOKEN, 'fragment');

    expect(location).toBe(`/Team%20Sync?lang=de#jwt=%22${TOKEN}%22`);
    expect(parseJwtLikeJitsi(`https://meet.example${location}`)).toBe(TOKEN);
  });

  it('leaves no empty query behind when only jwt was there', () => {
    expect(tokenLocation('/a/b', 'jwt=old', TOKEN, 'fragment')).toBe(`/a/b#jwt=%22${TOKEN}%22`);
  });

  it('percent-encodes what a URI may not hold in the kept query, as with the query hand-over', () => {
    const location = tokenLocation('/room', 'x="y"&%6Awt=old', TOKEN, 'fragment');

    expect(location).toBe(`/room?x=%22y%22#jwt=%22${TOKEN}%22`);
  });
});

describe('room page navigations with the token in the fragment', () => {
  let apps: GatewayApps;
  beforeAll(async () => {
    apps = await startGatewayApps();
  });
  afterEach(() => apps.reset());
  afterAll(async () => {
    await apps.close();
  });

  const alice = readFixture('plain').headers;
  const fragmentApp = () => apps.app({ GATEWAY_TOKEN_PLACEMENT: 'fragment' });

  it('redirects with the token in the fragment, the query kept without jwt', async () => {
    const response = await request(fragmentApp())
      .get('/Team%20Sync?lang=de&jwt=stale')
      .set({ ...alice, ...NAVIGATE });

    expect(response.status).toBe(302);
    expect(response.headers.location).toMatch(/^\/Team%20Sync\?lang=de#jwt=%22[\w.-]+%22$/);
    expect(await claimsIn(response.headers.location as string)).toMatchObject({
      room: 'team%20sync',
    });
  });

  it('passes the tokenless page that follows the redirect, logged as a hand-over', async () => {
    const app = fragmentApp();
    const first = await request(app)
      .get('/Team%20Sync')
      .set({ ...alice, ...NAVIGATE });
    const landing = await request(app)
      .get('/Team%20Sync')
      .set({ ...alice, ...NAVIGATE, Cookie: markerCookie(first) });

    expect(landing.status).toBe(200);
    expect(apps.upstream.requests.map((seen) => seen.url)).toEqual(['/Team%20Sync']);
    expect(apps.log().lines()).toContainEqual(
      expect.objectContaining({ decision: 'pass', reason: 'fragment-handover', level: 30 }),
    );
    expect(
      apps
        .log()
        .lines()
        .filter((line) => line.level === 40),
    ).toEqual([]);
  });

  it('redirects again once the loop window is over, as for a later reload', async () => {
    const first = await request(fragmentApp())
      .get('/Team%20Sync')
      .set({ ...alice, ...NAVIGATE });
    const later = await request(apps.app({ GATEWAY_TOKEN_PLACEMENT: 'fragment' }, NOW + 31))
      .get('/Team%20Sync')
      .set({ ...alice, ...NAVIGATE, Cookie: markerCookie(first) });

    expect(later.status).toBe(302);
  });

  it('ends with a pass for a browser that keeps no cookies', async () => {
    const app = fragmentApp();
    const statuses: number[] = [];
    for (let visit = 0; visit < 4; visit += 1) {
      const response = await request(app)
        .get('/Team%20Sync')
        .set({ ...alice, ...NAVIGATE });
      statuses.push(response.status);
    }

    expect(statuses).toEqual([302, 302, 302, 200]);
  });
});
