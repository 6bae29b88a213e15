import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeyServer } from '../../../src/token/key-server.js';
import { loadKeys } from '../../../src/token/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'jcg-key-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const keyFile = join(dir, 'key.pem');
writeFileSync(keyFile, privateKey);

const keys = loadKeys({ algorithm: 'RS256', keyFile, keyId: 'gateway-1' });
const server = createKeyServer(keys.published, '/_gateway/keys');
const pemName = `${createHash('sha256').update('gateway-1').digest('hex')}.pem`;

describe('createKeyServer', () => {
  it("serves the public key where Prosody's asap_key_server asks for it", () => {
    const answer = server.answer('GET', `/_gateway/keys/${pemName}`);
    expect(answer?.status).toBe(200);
    expect(answer?.headers['Content-Type']).toBe('application/x-pem-file');
    expect(answer?.body).toBe(publicKey);
  });

  it('serves the same key as a JWKS document', () => {
    const answer = server.answer('HEAD', '/_gateway/keys/jwks.json');
    expect(answer?.status).toBe(200);
    expect(answer?.headers['Content-Type']).toBe('application/jwk-set+json');
    expect(JSON.parse(answer?.body ?? '')).toEqual({
      keys: [expect.objectContaining({ kty: 'RSA', kid: 'gateway-1', alg: 'RS256', use: 'sig' })],
    });
  });

  it('reads the path as nginx does, decoded', () => {
    expect(server.answer('GET', `/%5Fgateway/keys/${pemName}`)?.status).toBe(200);
  });

  it.each([
    '/_gateway/keys',
    '/_gateway/keys/',
    `/_gateway/keys/${pemName.toUpperCase()}`,
    '/_gateway/keys/unknown.pem',
    `/_gateway/keys/x/${pemName}`,
  ])('answers %s with 404 itself, so that it never reaches Jitsi', (path) => {
    expect(server.answer('GET', path)).toMatchObject({ status: 404, body: 'no such key\n' });
  });

  it('refuses methods other than GET and HEAD', () => {
    expect(server.answer('POST', '/_gateway/keys/jwks.json')).toMatchObject({
      status: 405,
      headers: { Allow: 'GET, HEAD' },
    });
  });

  it.each(['/', '/room', '/_gateway', '/_gateway/keysx', '/_gateway/other', '/libs/keys'])(
    'leaves %s to the rest of the gateway',
    (path) => {
      expect(server.answer('GET', path)).toBeUndefined();
    },
  );

  it('publishes nothing for a shared secret', () => {
    const secretServer = createKeyServer(
      loadKeys({ algorithm: 'HS256', secret: 'a-shared-app-secret-of-32-chars!' }).published,
      '/_gateway/keys',
    );
    expect(JSON.parse(secretServer.answer('GET', '/_gateway/keys/jwks.json')?.body ?? '')).toEqual({
      keys: [],
    });
    expect(secretServer.answer('GET', `/_gateway/keys/${pemName}`)?.status).toBe(404);
  });
});
