import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { buildClaims, type JitsiClaims } from '../../../src/token/claims.js';
import { loadKeys } from '../../../src/token/keys.js';
import { checkPresentedToken } from '../../../src/token/presented.js';
import { createSigner } from '../../../src/token/sign.js';

const NOW = 1_800_000_000;
const SECRET = 'a-shared-app-secret-of-32-chars!';
const settings = {
  appId: 'jitsi',
  audience: 'jitsi',
  xmppDomain: 'meet.jitsi',
  lifetimeSeconds: 600,
  clockSkewSeconds: 60,
  subjectWithoutTenant: 'xmpp-domain' as const,
  roomClaim: 'exact' as const,
};
const alice = { id: 'alice-id', name: 'Alice', subjectDn: 'CN=Alice', attributes: [] };
const bob = { ...alice, id: 'bob-id', name: 'Bob' };
const signer = createSigner(loadKeys({ algorithm: 'HS256', secret: SECRET }));
const expected = buildClaims(alice, { room: 'room', tenant: 'acme' }, settings, NOW);
const check = { expected, renewMarginSeconds: 60, now: NOW };

function ours(change: Partial<JitsiClaims> = {}): Promise<string> {
  return signer.sign({ ...expected, ...change });
}

describe('checkPresentedToken', () => {
  it('finds no token in a URL without one', async () => {
    expect(await checkPresentedToken([], check, signer)).toEqual({ kind: 'absent' });
  });

  it('keeps our token for this room, tenant and holder with time left', async () => {
    expect(await checkPresentedToken([await ours()], check, signer)).toEqual({ kind: 'usable' });
  });

  it('keeps our token minted a while ago, with more than the margin left', async () => {
    const older = buildClaims(alice, { room: 'room', tenant: 'acme' }, settings, NOW - 500);
    expect(await checkPresentedToken([await signer.sign(older)], check, signer)).toEqual({
      kind: 'usable',
    });
  });

  it.each<[string, () => Promise<string[]>, string]>([
    ['several jwt parameters', async () => [await ours(), await ours()], 'several'],
    ['a number', async () => ['123'], 'malformed'],
    ['an empty value', async () => [''], 'malformed'],
    ['three parts that are not JSON', async () => ['a.b.c'], 'malformed'],
    ['an expired token', async () => [await ours({ exp: NOW - 1 })], 'expiring'],
    ['a token that expires now', async () => [await ours({ exp: NOW })], 'expiring'],
    [
      'a token with exactly the margin left',
      async () => [await ours({ exp: NOW + 60 })],
      'expiring',
    ],
    [
      'a token without exp',
      async () => [await signer.sign({ ...expected, exp: undefined as unknown as number })],
      'expiring',
    ],
    ['a token that is not valid yet', async () => [await ours({ nbf: NOW + 30 })], 'not-yet-valid'],
    ['a token for another room', async () => [await ours({ room: 'other' })], 'other-room'],
    [
      'a token for any room when exact rooms are issued',
      async () => [await ours({ room: '*' })],
      'other-room',
    ],
    ['a token for another tenant', async () => [await ours({ sub: 'other' })], 'other-room'],
    [
      'a token without a tenant on a tenant URL',
      async () => [await ours({ sub: 'meet.jitsi' })],
      'other-room',
    ],
    [
      'a token for another holder',
      async () => [
        await signer.sign(buildClaims(bob, { room: 'room', tenant: 'acme' }, settings, NOW)),
      ],
      'other-holder',
    ],
    ['a token from another issuer', async () => [await ours({ iss: 'old-app' })], 'other-claims'],
    [
      'a token for another audience',
      async () => [await ours({ aud: 'elsewhere' })],
      'other-claims',
    ],
  ])('replaces %s', async (_case, values, reason) => {
    expect(await checkPresentedToken(await values(), check, signer)).toEqual({
      kind: 'unusable',
      reason,
    });
  });

  it.each<[string, () => Promise<string>]>([
    [
      'a token of another system',
      () =>
        new SignJWT({ ...expected })
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .sign(new TextEncoder().encode('another-systems-secret-of-32-chars')),
    ],
    [
      'a forged token without a signature',
      async () => {
        const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
        const body = Buffer.from(JSON.stringify(expected)).toString('base64url');
        return `${header}.${body}.`;
      },
    ],
  ])('tells %s apart as foreign', async (_case, make) => {
    expect(await checkPresentedToken([await make()], check, signer)).toEqual({ kind: 'foreign' });
  });
});
