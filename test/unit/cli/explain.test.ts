import { SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { explainToken, mintToken, type Check } from '../../../src/operator/index.js';
import { createSigner, loadKeys } from '../../../src/token/index.js';
import { TEST_APP_SECRET, testConfig } from '../../helpers/config.js';

const NOW = 1_800_000_000;
const KEY = new TextEncoder().encode(TEST_APP_SECRET);
const config = testConfig();
const signer = createSigner(loadKeys(config.token));

function sign(claims: JWTPayload, header: Record<string, unknown> = {}, key = KEY) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(key);
}

function claims(extra: Record<string, unknown> = {}): JWTPayload {
  const base: JWTPayload = {
    iss: 'jitsi',
    aud: 'jitsi',
    sub: 'meet.jitsi',
    room: 'team%20sync',
    iat: NOW - 60,
    nbf: NOW - 60,
    exp: NOW + 600,
    context: { user: { id: 'x', name: 'Alice Example', email: 'alice@example.org' } },
  };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base;
}

async function explain(token: string, url = 'https://meet.example.org/Team%20Sync') {
  return explainToken({ token, url, config, signer, now: NOW });
}

function verdictOf(checks: readonly Check[], item: string): Check | undefined {
  return checks.find((check) => check.item === item);
}

describe('explaining a token', () => {
  it('accepts a token the gateway minted for the room it was minted for', async () => {
    const minted = await mintToken(
      config,
      { subjectDn: 'CN=Alice Example,O=Example Org,C=DE', room: '/Team%20Sync' },
      NOW,
    );
    const explanation = await explain(minted.kind === 'token' ? minted.token : '');

    expect(explanation.acceptable).toBe(true);
    expect(explanation.checks.map((check) => `${check.verdict} ${check.item}`)).toEqual([
      'ok header typ',
      'ok header alg',
      'ok signature',
      'ok iss',
      'ok aud',
      'ok sub',
      'ok room',
      'ok nbf',
      'ok exp',
      'ok context.user.id',
      'ok context.user.name',
    ]);
  });

  it.each([
    [
      'another room',
      claims({ room: 'other' }),
      'room',
      'is "other", but the client joins "team%20sync" from /Team%20Sync',
    ],
    ['no room', claims({ room: undefined }), 'room', 'is missing; Prosody requires it'],
    ['an expired token', claims({ exp: NOW }), 'exp', '2027-01-15T08:00:00.000Z, expired 0 s ago'],
    [
      'a token not valid yet',
      claims({ nbf: NOW + 1 }),
      'nbf',
      '2027-01-15T08:00:01.000Z, 1 s from now',
    ],
    [
      'another issuer',
      claims({ iss: 'other' }),
      'iss',
      'is "other", not "jitsi", the configured issuer (token.appId)',
    ],
    ['no audience', claims({ aud: undefined }), 'aud', 'is missing; Prosody requires it'],
    [
      'a list audience',
      claims({ aud: ['jitsi'] }),
      'aud',
      'is a list; Prosody compares one string',
    ],
    [
      'another sub',
      claims({ sub: 'meet.example.org' }),
      'sub',
      'is "meet.example.org", not "meet.jitsi", the XMPP domain (token.xmppDomain)',
    ],
    ['no sub', claims({ sub: undefined }), 'sub', 'is missing; Prosody requires it'],
    ['a text exp', claims({ exp: String(NOW + 600) }), 'exp', `is "${NOW + 600}", not a number`],
    [
      'a number as name',
      claims({ context: { user: { id: 'x', name: 42 } } }),
      'context.user.name',
      'is 42; it must be text',
    ],
  ])('refuses %s', async (_name, payload, item, detail) => {
    const explanation = await explain(await sign(payload));

    expect(explanation.acceptable).toBe(false);
    expect(verdictOf(explanation.checks, item)).toEqual({ item, verdict: 'fail', detail });
  });

  it.each([
    ['typ lower case', { typ: 'jwt' }, 'header typ', 'is "jwt"; Prosody accepts only "JWT"'],
    ['no typ', { typ: undefined }, 'header typ', 'is absent; Prosody accepts only "JWT"'],
  ])(
    'refuses a header with %s and does not check its signature',
    async (_n, header, item, detail) => {
      const explanation = await explain(await sign(claims(), header));

      expect(verdictOf(explanation.checks, item)).toEqual({ item, verdict: 'fail', detail });
      expect(verdictOf(explanation.checks, 'signature')?.verdict).toBe('skip');
    },
  );

  it('refuses another algorithm', async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS512', typ: 'JWT' })
      .sign(new Uint8Array(64));
    const explanation = await explain(token);
    expect(verdictOf(explanation.checks, 'header alg')).toMatchObject({ verdict: 'fail' });
  });

  it('refuses a token signed with another secret', async () => {
    const other = new TextEncoder().encode('another-secret-that-is-long-enough-0123');
    const explanation = await explain(await sign(claims(), {}, other));

    expect(verdictOf(explanation.checks, 'signature')).toMatchObject({
      verdict: 'fail',
      detail: 'does not verify with the configured key (token.secret or token.keyFile)',
    });
  });

  it('checks the signature of an expired token on its own', async () => {
    const explanation = await explain(await sign(claims({ nbf: NOW - 900, exp: NOW - 300 })));
    expect(verdictOf(explanation.checks, 'signature')?.verdict).toBe('ok');
    expect(verdictOf(explanation.checks, 'exp')?.verdict).toBe('fail');
  });

  it('accepts a room in ASCII upper case and a room of "*"', async () => {
    for (const room of ['TEAM%20SYNC', '*']) {
      expect((await explain(await sign(claims({ room })))).acceptable).toBe(true);
    }
  });

  it('compares sub with the tenant of a tenant URL', async () => {
    const explanation = await explain(await sign(claims()), '/Acme/Team%20Sync');
    expect(verdictOf(explanation.checks, 'sub')).toMatchObject({
      verdict: 'fail',
      detail: 'is "meet.jitsi", not "acme", the tenant of this URL',
    });
  });

  it('refuses a URL that is not a room page', async () => {
    const explanation = await explain(await sign(claims()), '/config.js');
    expect(verdictOf(explanation.checks, 'room')).toMatchObject({ verdict: 'fail' });
  });

  it('warns about a token without exp, which Prosody accepts forever', async () => {
    const explanation = await explain(await sign(claims({ exp: undefined })));
    expect(explanation.acceptable).toBe(true);
    expect(verdictOf(explanation.checks, 'exp')?.verdict).toBe('warn');
  });

  it('warns about features Jitsi does not know', async () => {
    const explanation = await explain(await sign(claims({ context: { features: { x: true } } })));
    expect(verdictOf(explanation.checks, 'context.features')).toMatchObject({
      verdict: 'warn',
      detail: 'unknown: x',
    });
  });

  it.each(['not-a-token', 'a.b', 'e30.e30.e30.e30', 'bm90IGpzb24.e30.sig'])(
    'says what is wrong with %s',
    async (token) => {
      const explanation = await explain(token);
      expect(explanation.acceptable).toBe(false);
      expect(explanation.checks).toHaveLength(1);
      expect(explanation.checks[0]?.item).toBe('token');
    },
  );
});
