import { decodeJwt, SignJWT } from 'jose';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { createGateway } from '../../../src/server/index.js';
import { testConfig } from '../../helpers/config.js';
import { readFixture } from '../../helpers/fixtures.js';
import { startGatewayApps, type GatewayApps } from '../../helpers/gateway-app.js';
import { captureLog } from '../../helpers/logs.js';

const NOW = 1_800_000_000;
const NAVIGATE = { 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' };
const alice = { ...readFixture('plain').headers, ...NAVIGATE };
const carol = { ...readFixture('multival').headers, ...NAVIGATE };

let apps: GatewayApps;

beforeAll(async () => {
  apps = await startGatewayApps();
});
afterAll(async () => {
  await apps.close();
});
afterEach(() => {
  apps.reset();
});

const gatewayApp = (env: Record<string, string> = {}, now = NOW) => apps.app(env, now);

function tokenIn(location: string | undefined): string {
  const params = new URL(location ?? '', 'https://meet.example').searchParams;
  expect(params.getAll('jwt')).toHaveLength(1);
  return params.get('jwt') as string;
}

/** A token the gateway mints for `who` on `path`, at `now`. */
async function mintedToken(path: string, who = alice, now = NOW, env = {}): Promise<string> {
  const response = await request(gatewayApp(env, now)).get(path).set(who);
  expect(response.status).toBe(302);
  return tokenIn(response.headers.location);
}

function decisions(): Record<string, unknown>[] {
  return apps
    .log()
    .lines()
    .filter((line) => line.decision !== undefined);
}

describe('a token already in the URL', () => {
  it('is kept when the gateway made it for this room and holder and it has time left', async () => {
    const token = await mintedToken('/room', alice, NOW - 300);
    const response = await request(gatewayApp()).get(`/room?x=1&jwt=${token}`).set(alice);

    expect(response.status).toBe(200);
    expect(apps.upstream.requests[0]?.url).toBe(`/room?x=1&jwt=${token}`);
    expect(decisions()).toEqual([
      expect.objectContaining({ reason: 'token-usable', presentedToken: 'usable' }),
    ]);
  });

  it.each<[string, () => Promise<string>, string]>([
    ['expired', async () => `jwt=${await mintedToken('/room', alice, NOW - 700)}`, 'expiring'],
    [
      'close to expiry',
      async () => `jwt=${await mintedToken('/room', alice, NOW - 550)}`,
      'expiring',
    ],
    ['for another room', async () => `jwt=${await mintedToken('/other')}`, 'other-room'],
    [
      'for the same room in a tenant',
      async () => `jwt=${await mintedToken('/acme/room')}`,
      'other-room',
    ],
    ['for another person', async () => `jwt=${await mintedToken('/room', carol)}`, 'other-holder'],
    ['garbage such as 123', async () => 'jwt=123', 'malformed'],
    ['empty', async () => 'jwt=', 'malformed'],
    [
      'one of several jwt parameters',
      async () => {
        const token = await mintedToken('/room');
        return `jwt=${token}&jwt=${token}`;
      },
      'several',
    ],
    ['from another system', async () => `jwt=${await foreignToken()}`, 'foreign'],
  ])('is replaced when it is %s', async (_case, query, presented) => {
    const presentedQuery = await query();
    const response = await request(gatewayApp()).get(`/room?lang=de&${presentedQuery}`).set(alice);

    expect(response.status).toBe(302);
    expect(response.headers.location).toMatch(/^\/room\?lang=de&jwt=[^&]+$/);
    expect(decodeJwt(tokenIn(response.headers.location))).toMatchObject({
      room: 'room',
      exp: NOW + 600,
      context: { user: { name: 'Alice Example' } },
    });
    expect(decisions()).toEqual([
      expect.objectContaining({ reason: 'token-replaced', presentedToken: presented }),
    ]);
    expect(apps.upstream.requests).toHaveLength(0);
  });

  it("is left alone when it is another system's and foreign tokens are kept", async () => {
    const token = await foreignToken();
    const response = await request(gatewayApp({ GATEWAY_FOREIGN_TOKENS: 'keep' }))
      .get(`/room?jwt=${token}`)
      .set(alice);

    expect(response.status).toBe(200);
    expect(apps.upstream.requests[0]?.url).toBe(`/room?jwt=${token}`);
    expect(decisions()).toEqual([
      expect.objectContaining({ decision: 'pass', presentedToken: 'foreign' }),
    ]);
    expect(apps.log().text()).not.toContain(token);
  });

  it.each<[string, () => Promise<string>]>([
    ['garbage', async () => 'jwt=123'],
    ['our own expired token', async () => `jwt=${await mintedToken('/room', alice, NOW - 700)}`],
  ])('is still replaced when it is %s and foreign tokens are kept', async (_case, query) => {
    const presentedQuery = await query();
    const response = await request(gatewayApp({ GATEWAY_FOREIGN_TOKENS: 'keep' }))
      .get(`/room?${presentedQuery}`)
      .set(alice);
    expect(response.status).toBe(302);
  });
});

function foreignToken(): Promise<string> {
  return new SignJWT({
    iss: 'jitsi',
    aud: 'jitsi',
    sub: 'meet.jitsi',
    room: 'room',
    exp: NOW + 3600,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode('another-systems-secret-of-32-chars'));
}

describe('rooms and tenants', () => {
  it.each([
    ['/Acme/Standup', 'acme', 'standup'],
    ['/My.Team/Daily%20Sync', 'my_team', 'daily%20sync'],
    ['/Team%20Sync', 'meet.jitsi', 'team%20sync'],
    ['/%C3%84rger', 'meet.jitsi', '%c3%a4rger'],
  ])('gives %s a token with sub %s and room %s', async (path, sub, room) => {
    const claims = decodeJwt(await mintedToken(path));
    expect(claims).toMatchObject({ sub, room });
  });

  it('names any domain as sub on a room without a tenant when set to *', async () => {
    const env = { GATEWAY_TOKEN_SUBJECT_WITHOUT_TENANT: '*' };
    expect(decodeJwt(await mintedToken('/room', alice, NOW, env)).sub).toBe('*');
    expect(decodeJwt(await mintedToken('/acme/room', alice, NOW, env)).sub).toBe('acme');
  });

  it('issues tokens for any room when set to *, and keeps them on every room', async () => {
    const env = { GATEWAY_TOKEN_ROOM_CLAIM: '*' };
    const token = await mintedToken('/room', alice, NOW, env);
    expect(decodeJwt(token).room).toBe('*');

    const elsewhere = await request(gatewayApp(env)).get(`/other?jwt=${token}`).set(alice);
    expect(elsewhere.status).toBe(200);
  });

  it.each(['/a%2Fb', '/acme/team/room', '/a%20b/room', '/b%C3%BCcher/room', '/acme%2Froom'])(
    'gives no token on %s, which nginx and the client read differently',
    async (path) => {
      const response = await request(gatewayApp()).get(path).set(alice);
      expect(response.status).toBe(200);
      expect(apps.upstream.requests[0]?.url).toBe(path);
    },
  );
});

describe('the key path', () => {
  it.each([
    '/_gateway/keys',
    '/_gateway/keys/jwks.json',
    '/_gateway/keys/abc.pem',
    '/%5Fgateway/keys/x',
  ])(
    'answers a page navigation to %s itself, never as a room and never from Jitsi',
    async (path) => {
      const response = await request(gatewayApp()).get(path).set(alice);
      expect(response.status).not.toBe(302);
      expect(apps.upstream.requests).toHaveLength(0);
    },
  );

  it('follows the configured key path', async () => {
    const app = gatewayApp({ GATEWAY_KEY_SERVER_PATH: '/.well-known/jitsi-keys' });
    const keys = await request(app).get('/.well-known/jitsi-keys/jwks.json');
    expect(keys.status).toBe(200);
    expect(apps.upstream.requests).toHaveLength(0);
  });
});

describe('a gateway whose keys are unusable', () => {
  it('refuses to be built, naming the setting and the file', () => {
    const attempt = () =>
      createGateway({
        config: testConfig({
          GATEWAY_TOKEN_ALGORITHM: 'RS256',
          GATEWAY_TOKEN_KEY_FILE: '/nonexistent/gateway-key.pem',
        }),
        logger: captureLog().logger,
      });
    expect(attempt).toThrow(GatewayError);
    expect(attempt).toThrow(
      'token.keyFile (GATEWAY_TOKEN_KEY_FILE): /nonexistent/gateway-key.pem cannot be read (ENOENT)',
    );
  });
});
