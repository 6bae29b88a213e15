import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import {
  buildClaims,
  checkPresentedToken,
  createSigner,
  loadKeys,
} from '../../../src/token/index.js';

const NOW = 1_800_000_000;
const SECRET = 'a-shared-app-secret-of-32-chars!';
const alice = { id: 'alice-id', name: 'Alice', subjectDn: 'CN=Alice', attributes: [] };

/** docker-jitsi-meet's JWT_ACCEPTED_AUDIENCES is a comma list; Prosody refuses `"aud":"a,b"`. */
describe('an audience list shared with docker-jitsi-meet', () => {
  const result = loadConfig({
    env: {
      JWT_APP_SECRET: SECRET,
      GATEWAY_COOKIE_SECRET: 'b'.repeat(32),
      JWT_ACCEPTED_AUDIENCES: 'jitsi,other',
    },
  });
  if (!result.ok) throw new Error(result.problems.join('\n'));
  const { token } = result.config;
  const signer = createSigner(loadKeys({ algorithm: 'HS256', secret: SECRET }));
  const expected = buildClaims(alice, { room: 'room' }, token, NOW);

  it('mints tokens whose aud is the first audience alone', async () => {
    const { payload } = await jwtVerify(
      await signer.sign(expected),
      new TextEncoder().encode(SECRET),
      { currentDate: new Date(NOW * 1000) },
    );
    expect(payload.aud).toBe('jitsi');
  });

  it('keeps a token it minted under the same list when it comes back in the URL', async () => {
    const check = { expected, renewMarginSeconds: token.renewMarginSeconds, now: NOW };
    expect(await checkPresentedToken([await signer.sign(expected)], check, signer)).toEqual({
      kind: 'usable',
    });
  });
});
