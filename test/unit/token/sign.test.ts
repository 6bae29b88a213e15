import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, importSPKI, jwtVerify, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { buildClaims } from '../../../src/token/claims.js';
import { loadKeys } from '../../../src/token/keys.js';
import { createSigner } from '../../../src/token/sign.js';

const NOW = 1_800_000_000;
const SECRET = 'a-shared-app-secret-of-32-chars!';
const settings = {
  appId: 'my-app',
  audience: 'jitsi',
  xmppDomain: 'meet.jitsi',
  lifetimeSeconds: 600,
  clockSkewSeconds: 60,
  subjectWithoutTenant: 'xmpp-domain' as const,
  roomClaim: 'exact' as const,
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

  it('names any domain as the subject without a tenant when set to *', () => {
    const wildcard = { ...settings, subjectWithoutTenant: '*' as const };
    expect(buildClaims(identity, { room: 'r' }, wildcard, NOW).sub).toBe('*');
    expect(buildClaims(identity, { room: 'r', tenant: 'acme' }, wildcard, NOW).sub).toBe('acme');
  });

  it('names any room when the room claim is set to *', () => {
    const anyRoom = { ...settings, roomClaim: '*' as const };
    expect(buildClaims(identity, { room: 'r', tenant: 'acme' }, anyRoom, NOW)).toMatchObject({
      room: '*',
      sub: 'acme',
    });
  });

  it('leaves the email out when the holder has none', () => {
    const withoutEmail = { ...identity, email: undefined };
    expect(buildClaims(withoutEmail, { room: 'r' }, settings, NOW).context.user).toEqual({
      id: 'abc123',
      name: 'José Müller',
    });
  });
});

const dir = mkdtempSync(join(tmpdir(), 'jcg-sign-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rsaKeyFiles(name: string): { privateFile: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const privateFile = join(dir, `${name}.pem`);
  writeFileSync(privateFile, privateKey);
  return { privateFile, publicPem: publicKey };
}

const claims = buildClaims(identity, { room: 'team%20sync' }, settings, NOW);

describe('createSigner with the shared secret', () => {
  it.each(['HS256', 'HS384', 'HS512'])(
    'signs %s with typ JWT, verifiable with the raw app secret',
    async (alg) => {
      const token = await createSigner(loadKeys({ algorithm: alg, secret: SECRET })).sign(claims);
      expect(decodeProtectedHeader(token)).toEqual({ alg, typ: 'JWT' });
      const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET), {
        algorithms: [alg],
        currentDate: new Date(NOW * 1000),
      });
      expect(payload).toEqual(claims);
    },
  );

  const signer = createSigner(loadKeys({ algorithm: 'HS256', secret: SECRET }));

  it('reads back the claims of its own token, even an expired one', async () => {
    expect(await signer.readSigned(await signer.sign(claims))).toEqual(claims);
    const expired = await signer.sign({ ...claims, exp: NOW - 3600 });
    expect(await signer.readSigned(expired)).toMatchObject({ exp: NOW - 3600 });
  });

  it.each([
    ['garbage', async () => '123'],
    ['an empty string', async () => ''],
    [
      'a token from another secret',
      async () =>
        createSigner(loadKeys({ algorithm: 'HS256', secret: 'x'.repeat(32) })).sign(claims),
    ],
    [
      'a token signed with the same secret but HS512',
      async () => createSigner(loadKeys({ algorithm: 'HS512', secret: SECRET })).sign(claims),
    ],
    ['an unsigned token', async () => new UnsecuredJWT(claims).encode()],
    [
      'a token whose claims were changed after signing',
      async () => {
        const [header, , signature] = (await signer.sign(claims)).split('.');
        const changed = Buffer.from(JSON.stringify({ ...claims, room: 'other' })).toString(
          'base64url',
        );
        return `${header}.${changed}.${signature}`;
      },
    ],
    [
      'a token with a kid, which the gateway never sets with a secret',
      async () =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'k' })
          .sign(new TextEncoder().encode(SECRET)),
    ],
  ])('does not recognise %s', async (_name, make) => {
    expect(await signer.readSigned(await make())).toBeUndefined();
  });

  it('tells garbage from a JWT that another key signed', async () => {
    const other = createSigner(loadKeys({ algorithm: 'HS256', secret: 'x'.repeat(32) }));
    const [header, payload] = (await signer.sign(claims)).split('.');

    expect(await signer.readToken('123')).toEqual({ kind: 'malformed' });
    expect(await signer.readToken(`${header}.bm90IGpzb24.sig`)).toEqual({ kind: 'malformed' });
    expect(await signer.readToken(`${header}.${payload}.c2ln`)).toEqual({ kind: 'foreign' });
    expect(await signer.readToken(await other.sign(claims))).toEqual({ kind: 'foreign' });
    expect(await signer.readToken(await signer.sign(claims))).toEqual({ kind: 'ours', claims });
  });
});

describe('createSigner with a private key', () => {
  const current = rsaKeyFiles('current');
  const previous = rsaKeyFiles('previous');
  const before = createSigner(
    loadKeys({ algorithm: 'RS256', keyFile: previous.privateFile, keyId: 'old' }),
  );
  const after = createSigner(
    loadKeys({
      algorithm: 'RS256',
      keyFile: current.privateFile,
      keyId: 'new',
      previousKeyFile: previous.privateFile,
      previousKeyId: 'old',
    }),
  );

  it('signs RS256 with its kid, verifiable with the public key', async () => {
    const token = await after.sign(claims);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'new' });
    const { payload } = await jwtVerify(token, await importSPKI(current.publicPem, 'RS256'), {
      currentDate: new Date(NOW * 1000),
    });
    expect(payload).toEqual(claims);
    expect(after.keyId).toBe('new');
  });

  it('recognises a token of the previous key after a rotation', async () => {
    const oldToken = await before.sign(claims);
    expect(decodeProtectedHeader(oldToken).kid).toBe('old');
    expect(await after.readSigned(oldToken)).toEqual(claims);
  });

  it.each([
    [
      'a token of an unknown kid',
      async () =>
        createSigner(
          loadKeys({ algorithm: 'RS256', keyFile: current.privateFile, keyId: 'stranger' }),
        ).sign(claims),
    ],
    [
      'a token of a known kid made with another key',
      async () =>
        createSigner(
          loadKeys({ algorithm: 'RS256', keyFile: previous.privateFile, keyId: 'new' }),
        ).sign(claims),
    ],
    [
      'a token signed RS512 with the right key',
      async () =>
        createSigner(
          loadKeys({ algorithm: 'RS512', keyFile: current.privateFile, keyId: 'new' }),
        ).sign(claims),
    ],
    [
      'an HS256 token',
      async () => createSigner(loadKeys({ algorithm: 'HS256', secret: SECRET })).sign(claims),
    ],
  ])('does not recognise %s', async (_name, make) => {
    expect(await after.readSigned(await make())).toBeUndefined();
  });
});
