import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, importSPKI } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { loadKeys, type KeySettings } from '../../../src/token/keys.js';

const SECRET = 'a-shared-app-secret-of-32-chars!';

// The folder's name is fixed when the file loads, so that the table below can name its files;
// the files themselves are written before the tests and removed after them.
const dir = mkdtempSync(join(tmpdir(), 'jcg-keys-'));
const at = (name: string): string => join(dir, name);

function rsaPem(bits: number, passphrase?: string): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    privateKeyEncoding: passphrase
      ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }
      : { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}

function file(name: string, content: string): void {
  writeFileSync(at(name), content);
}

beforeAll(() => {
  const current = rsaPem(2048);
  const previous = rsaPem(2048);
  file('current.pem', current.privatePem);
  file('current.pub.pem', current.publicPem);
  file('previous.pem', previous.privatePem);
  file('previous.pub.pem', previous.publicPem);
  const pkcs1 = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  file('pkcs1.pem', pkcs1.privateKey);
  file('small.pem', rsaPem(1024).privatePem);
  file('encrypted.pem', rsaPem(2048, 'passphrase').privatePem);
  const ec = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  file('ec.pem', ec.privateKey);
  file('ec.pub.pem', ec.publicKey);
  file('garbage.pem', 'not a key at all\n');
  file('secret.txt', `${SECRET}\n`);
  file('secret-crlf.txt', `${SECRET}\r\n`);
  file('short-secret.txt', 'too-short\n');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function rs256(extra: Partial<KeySettings> = {}): KeySettings {
  return { algorithm: 'RS256', keyFile: at('current.pem'), ...extra };
}

function refusal(settings: KeySettings): GatewayError {
  try {
    loadKeys(settings);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('loadKeys accepted the settings');
}

describe('loadKeys with a shared secret', () => {
  it.each(['HS256', 'HS384', 'HS512'])('uses the secret from the environment for %s', (alg) => {
    const keys = loadKeys({ algorithm: alg, secret: SECRET });
    expect(keys.algorithm).toBe(alg);
    expect(keys.signing.key.export().toString('utf8')).toBe(SECRET);
    expect(keys.signing.kid).toBeUndefined();
    expect(keys.published).toEqual([]);
  });

  it.each(['secret.txt', 'secret-crlf.txt'])(
    'reads the secret from %s without its newline',
    (name) => {
      const keys = loadKeys({ algorithm: 'HS256', secretFile: at(name) });
      expect(keys.signing.key.export().toString('utf8')).toBe(SECRET);
    },
  );
});

describe('loadKeys with a private key', () => {
  it('signs with the key and publishes its public half under the sha256 of its kid', async () => {
    const keys = loadKeys(rs256({ keyId: 'gateway-2026' }));
    expect(keys.signing.kid).toBe('gateway-2026');
    expect(keys.published).toHaveLength(1);
    const [published] = keys.published;
    const hash = createHash('sha256').update('gateway-2026').digest('hex');
    expect(published?.fileName).toBe(`${hash}.pem`);
    expect(published?.pem.trim()).toBe(readFileSync(at('current.pub.pem'), 'utf8').trim());
    expect(published?.jwk).toMatchObject({
      kty: 'RSA',
      kid: 'gateway-2026',
      alg: 'RS256',
      use: 'sig',
    });
  });

  it('names the key by its RFC 7638 thumbprint when no kid is set', async () => {
    const keys = loadKeys(rs256());
    const publicKey = await importSPKI(readFileSync(at('current.pub.pem'), 'utf8'), 'RS256', {
      extractable: true,
    });
    const expected = await calculateJwkThumbprint(await exportJWK(publicKey));
    expect(keys.signing.kid).toBe(expected);
  });

  it('reads a PKCS#1 private key', () => {
    expect(loadKeys(rs256({ keyFile: at('pkcs1.pem') })).published).toHaveLength(1);
  });

  it('keeps the previous key for verifying and publishing, never for signing', () => {
    const keys = loadKeys(
      rs256({ keyId: 'new', previousKeyFile: at('previous.pub.pem'), previousKeyId: 'old' }),
    );
    expect(keys.signing.kid).toBe('new');
    expect(keys.verifying.map((key) => key.kid)).toEqual(['new', 'old']);
    expect(keys.published.map((key) => key.kid)).toEqual(['new', 'old']);
  });

  it('takes the previous key from a private key file too', () => {
    const keys = loadKeys(rs256({ previousKeyFile: at('previous.pem') }));
    expect(keys.published).toHaveLength(2);
    expect(keys.published[0]?.kid).not.toBe(keys.published[1]?.kid);
  });
});

describe('loadKeys refuses to start', () => {
  it.each<[string, () => KeySettings, string]>([
    [
      'an unsupported algorithm',
      () => ({ algorithm: 'ES256', secret: SECRET }),
      'token.algorithm (GATEWAY_TOKEN_ALGORITHM): ES256 is not supported; use one of HS256, HS384, HS512, RS256, RS384, RS512',
    ],
    [
      'a shared-secret algorithm without a secret',
      () => ({ algorithm: 'HS256' }),
      'token.secret (JWT_APP_SECRET): is required; or set token.secretFile (JWT_APP_SECRET_FILE)',
    ],
    [
      'both a secret and a secret file',
      () => ({ algorithm: 'HS256', secret: SECRET, secretFile: at('secret.txt') }),
      'token.secretFile (JWT_APP_SECRET_FILE): set either it or token.secret (JWT_APP_SECRET), not both',
    ],
    [
      'a missing secret file',
      () => ({ algorithm: 'HS256', secretFile: join(dir, 'absent.txt') }),
      `token.secretFile (JWT_APP_SECRET_FILE): ${join(dir, 'absent.txt')} cannot be read (ENOENT)`,
    ],
    [
      'a secret file with a short secret',
      () => ({ algorithm: 'HS512', secretFile: at('short-secret.txt') }),
      `token.secretFile (JWT_APP_SECRET_FILE): ${at('short-secret.txt')} holds 9 characters; at least 32 are needed`,
    ],
    [
      'a key file with a shared-secret algorithm',
      () => ({ algorithm: 'HS256', secret: SECRET, keyFile: at('current.pem') }),
      'token.keyFile (GATEWAY_TOKEN_KEY_FILE): is set, but HS256 signs with the shared secret; set token.algorithm (GATEWAY_TOKEN_ALGORITHM) to RS256 to sign with the key',
    ],
    [
      'RS256 without a key file',
      () => ({ algorithm: 'RS256', secret: SECRET }),
      'token.keyFile (GATEWAY_TOKEN_KEY_FILE): is required with RS256',
    ],
    [
      'a missing key file',
      () => rs256({ keyFile: join(dir, 'absent.pem') }),
      `token.keyFile (GATEWAY_TOKEN_KEY_FILE): ${join(dir, 'absent.pem')} cannot be read (ENOENT)`,
    ],
    [
      'a key file that is a folder',
      () => rs256({ keyFile: dir }),
      `token.keyFile (GATEWAY_TOKEN_KEY_FILE): ${dir} cannot be read (EISDIR)`,
    ],
    [
      'a key file that holds no key',
      () => rs256({ keyFile: at('garbage.pem') }),
      `token.keyFile (GATEWAY_TOKEN_KEY_FILE): ${at('garbage.pem')} holds no readable private key (PEM, PKCS#8 or PKCS#1, unencrypted)`,
    ],
    [
      'a public key where the private key belongs',
      () => rs256({ keyFile: at('current.pub.pem') }),
      `token.keyFile (GATEWAY_TOKEN_KEY_FILE): ${at('current.pub.pem')} holds no readable private key (PEM, PKCS#8 or PKCS#1, unencrypted)`,
    ],
    [
      'an encrypted private key',
      () => rs256({ keyFile: at('encrypted.pem') }),
      `token.keyFile (GATEWAY_TOKEN_KEY_FILE): ${at('encrypted.pem')} holds no readable private key (PEM, PKCS#8 or PKCS#1, unencrypted)`,
    ],
    [
      'an EC key for RS256',
      () => rs256({ keyFile: at('ec.pem') }),
      `token.keyFile (GATEWAY_TOKEN_KEY_FILE): ${at('ec.pem')} holds a key of type ec; RS256 needs an RSA key`,
    ],
    [
      'a 1024-bit RSA key',
      () => rs256({ keyFile: at('small.pem') }),
      `token.keyFile (GATEWAY_TOKEN_KEY_FILE): ${at('small.pem')} holds a 1024-bit RSA key; RS256 needs at least 2048 bits`,
    ],
    [
      'a previous key file that holds no key',
      () => rs256({ previousKeyFile: at('garbage.pem') }),
      `token.previousKeyFile (GATEWAY_TOKEN_PREVIOUS_KEY_FILE): ${at('garbage.pem')} holds no readable PEM key`,
    ],
    [
      'a previous key that is not RSA',
      () => rs256({ previousKeyFile: at('ec.pub.pem') }),
      `token.previousKeyFile (GATEWAY_TOKEN_PREVIOUS_KEY_FILE): ${at('ec.pub.pem')} holds a key of type ec; RS256 needs an RSA key`,
    ],
    [
      'a missing previous key file',
      () => rs256({ previousKeyFile: join(dir, 'gone.pem') }),
      `token.previousKeyFile (GATEWAY_TOKEN_PREVIOUS_KEY_FILE): ${join(dir, 'gone.pem')} cannot be read (ENOENT)`,
    ],
    [
      'a previous key with the kid of the signing key',
      () => rs256({ keyId: 'same', previousKeyFile: at('previous.pem'), previousKeyId: 'same' }),
      "token.previousKeyId (GATEWAY_TOKEN_PREVIOUS_KEY_ID): is the same kid as the signing key's; a new key needs a new kid",
    ],
    [
      'the signing key again as the previous key',
      () => rs256({ previousKeyFile: at('current.pub.pem') }),
      "token.previousKeyId (GATEWAY_TOKEN_PREVIOUS_KEY_ID): is the same kid as the signing key's; a new key needs a new kid",
    ],
  ])('on %s, naming the setting and the file', (_case, settings, message) => {
    const error = refusal(settings());
    expect(error.code).toBe('KEY_INVALID');
    expect(error.message).toBe(message);
  });

  it('never puts key material into the message', () => {
    const error = refusal(rs256({ keyFile: at('current.pub.pem') }));
    expect(error.message).not.toMatch(/BEGIN|MII/);
    expect(
      refusal({ algorithm: 'HS256', secret: SECRET, secretFile: at('secret.txt') }).message,
    ).not.toContain(SECRET);
  });
});
