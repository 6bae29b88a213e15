import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { buildClaims } from '../../../src/token/claims.js';
import { createSigner } from '../../../src/token/sign.js';

const NOW = 1_800_000_000;
const SECRET = 'a-shared-app-secret-of-32-chars!';
const settings = {
  appId: 'my-app',
  audience: 'jitsi',
  xmppDomain: 'meet.jitsi',
  lifetimeSeconds: 600,
  clockSkewSeconds: 60,
};
const identity = {
  id: 'abc123',
  name: 'José Müller',
  email: 'jose@example.org',
  subjectDn: 'CN=José Müller',
  attributes: [],
};

describe('buildClaims', () => {
  it('builds the claims Prosody checks for a room without a tenant', () => {
    expect(buildClaims(identity, { room: 'team%20sync' }, settings, NOW)).toEqual({
      iss: 'my-app',
      aud: 'jitsi',
      sub: 'meet.jitsi',
      room: 'team%20sync',
      iat: NOW,
      nbf: NOW - 60,
      exp: NOW + 600,
      context: { user: { id: 'abc123', name: 'José Müller', email: 'jose@example.org' } },
    });
  });

  it('names the tenant as the subject on a tenant URL', () => {
    expect(buildClaims(identity, { room: 'r', tenant: 'acme' }, settings, NOW).sub).toBe('acme');
  });

  it('leaves the email out when the holder has none', () => {
    const withoutEmail = { ...identity, email: undefined };
    expect(buildClaims(withoutEmail, { room: 'r' }, settings, NOW).context.user).toEqual({
      id: 'abc123',
      name: 'José Müller',
    });
  });
});

describe('createSigner', () => {
  const signer = createSigner(SECRET);
  const claims = buildClaims(identity, { room: 'team%20sync' }, settings, NOW);

  it('signs HS256 with typ JWT, verifiable with the raw app secret', async () => {
    const token = await signer.sign(claims);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET), {
      currentDate: new Date(NOW * 1000),
    });
    expect(payload).toEqual(claims);
  });

  it('verifies its own token while it is valid', async () => {
    const token = await signer.sign(claims);
    expect(await signer.verify(token, NOW)).toEqual(claims);
  });

  it.each([
    ['garbage', async () => '123'],
    ['an expired token', async () => signer.sign({ ...claims, exp: NOW - 1 })],
    ['a token from another secret', async () => createSigner('x'.repeat(32)).sign(claims)],
  ])('does not verify %s', async (_name, make) => {
    expect(await signer.verify(await make(), NOW)).toBeUndefined();
  });
});
