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

const alice = readFixture('plain').headers;
const carol = readFixture('multival').headers;

let apps: GatewayApps;
beforeAll(async () => {
  apps = await startGatewayApps();
});
afterEach(() => apps.reset());
afterAll(async () => {
  await apps.close();
});

function withRules(rules: unknown[]) {
  return apps.app({ GATEWAY_RULES: JSON.stringify(rules) });
}

const REVOKED = {
  when: { serial: ['6F2E32AC32A541FD8A3131DC2DA4D5A27AB2B721'] },
  refuse: 'your certificate has been revoked',
};

describe('rules on room page navigations', () => {
  it('gives a holder in OU=Admins a token with the moderator claim', async () => {
    const app = withRules([{ when: { subject: { OU: 'Admins' } }, set: { moderator: true } }]);
    const response = await request(app)
      .get('/Board')
      .set({ ...carol, ...NAVIGATE });

    expect(await claimsIn(response.headers.location as string)).toMatchObject({
      context: { user: { name: 'Carol Admin', moderator: true } },
    });
  });

  it('refuses a holder on the revoked list with a 403 page that gives the reason', async () => {
    const response = await request(withRules([REVOKED]))
      .get('/Board')
      .set({ ...carol, ...NAVIGATE });

    expect(response.status).toBe(403);
    expect(response.headers.location).toBeUndefined();
    expect(response.text).toContain(
      'This site does not accept your certificate: your certificate has been revoked',
    );
    expect(apps.upstream.requests).toHaveLength(0);
    expect(apps.log().lines()).toContainEqual(
      expect.objectContaining({ decision: 'refuse', reason: 'holder-refused', rule: 0 }),
    );
  });

  it('refuses a revoked holder even with a token that was minted before', async () => {
    const before = await request(apps.app())
      .get('/Board')
      .set({ ...carol, ...NAVIGATE });
    const after = await request(withRules([REVOKED]))
      .get(before.headers.location as string)
      .set({ ...carol, ...NAVIGATE });

    expect(after.status).toBe(403);
    expect(apps.upstream.requests).toHaveLength(0);
  });

  it('lets a holder the list does not name through as before', async () => {
    const response = await request(withRules([REVOKED]))
      .get('/Board')
      .set({ ...alice, ...NAVIGATE });

    expect(response.status).toBe(302);
  });

  it('keeps the token it minted when the rules choose the id', async () => {
    const app = withRules([{ set: { id: '{UID}' } }]);
    const first = await request(app)
      .get('/Board')
      .set({ ...carol, ...NAVIGATE });
    const back = await request(app)
      .get(first.headers.location as string)
      .set({ ...carol, ...NAVIGATE, Cookie: markerCookie(first) });

    expect((await claimsIn(first.headers.location as string)).context).toMatchObject({
      user: { id: 'carol01' },
    });
    expect(back.status).toBe(200);
    expect(apps.log().lines()).toContainEqual(expect.objectContaining({ reason: 'token-usable' }));
  });

  it('logs the pseudonymous id, not an id the rules took from the certificate', async () => {
    await request(withRules([{ set: { id: '{UID}' } }]))
      .get('/Board')
      .set({ ...carol, ...NAVIGATE });

    // The debug line of the decision's facts names the certificate; info and above never do.
    const shown = apps
      .log()
      .lines()
      .filter((line) => (line.level as number) >= 30);
    expect(shown).toContainEqual(expect.objectContaining({ decision: 'redirect' }));
    expect(JSON.stringify(shown)).not.toContain('carol01');
  });
});
