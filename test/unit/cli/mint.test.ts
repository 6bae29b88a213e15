import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createIdentityReader } from '../../../src/identity/index.js';
import { mintToken } from '../../../src/operator/index.js';
import { TEST_APP_SECRET, testConfig } from '../../helpers/config.js';
import { readFixture } from '../../helpers/fixtures.js';

const NOW = 1_800_000_000;
const CAROL_DN = 'UID=carol01+CN=Carol Admin,OU=Staff,OU=Admins,O=Example Org,C=DE';

describe('minting a token as the gateway would', () => {
  it('gives the same token contents as a request with the same certificate headers', async () => {
    const headers = readFixture('multival').headers;
    const reading = createIdentityReader(testConfig().identity).read('127.0.0.1', headers);
    const minted = await mintToken(
      testConfig(),
      {
        subjectDn: CAROL_DN,
        room: '/Room%20N%C3%A4me',
        issuerDn: headers['x-ssl-client-i-dn'],
        serial: headers['x-ssl-client-serial'],
        fingerprint: headers['x-ssl-client-fingerprint'],
      },
      NOW,
    );

    if (minted.kind !== 'token' || reading.kind !== 'holder') throw new Error('nothing minted');
    const key = new TextEncoder().encode(TEST_APP_SECRET);
    const { payload } = await jwtVerify(minted.token, key, { currentDate: new Date(NOW * 1000) });
    expect(payload).toEqual({
      iss: 'jitsi',
      aud: 'jitsi',
      sub: 'meet.jitsi',
      room: 'room%20n%c3%a4me',
      iat: NOW,
      nbf: NOW - 60,
      exp: NOW + 600,
      context: { user: { id: reading.identity.id, name: 'Carol Admin' } },
    });
  });

  it('matches fingerprint rules with the fingerprint it is given', async () => {
    const rules = [
      { when: { fingerprint: ['24cce38883556c3f184114a7551faac409c223fb'] }, refuse: 'lost card' },
    ];
    const config = testConfig({ GATEWAY_RULES: JSON.stringify(rules) });
    const minted = await mintToken(
      config,
      { subjectDn: CAROL_DN, room: '/r', fingerprint: '24CCE38883556C3F184114A7551FAAC409C223FB' },
      NOW,
    );
    expect(minted).toEqual({ kind: 'refused', reason: 'lost card', rule: 0 });
  });

  it.each([
    [{ subjectDn: 'CN=Broken\\', room: '/r' }, 'subject DN: dangling backslash at position 9'],
    [{ subjectDn: 'CN=A', room: '/config.js' }, '--room: /config.js is not a room page'],
    [{ subjectDn: 'CN=A', room: '/a/b/c' }, '--room: /a/b/c is not a room page'],
    [
      { subjectDn: 'CN=A', room: '/r', serial: 'xyz' },
      'serial: header x-ssl-client-serial is not hexadecimal',
    ],
  ])('mints nothing for %j', async (request, problem) => {
    expect(await mintToken(testConfig(), request, NOW)).toEqual({ kind: 'invalid', problem });
  });
});
