// RS256 tokens as Prosody's asap_key_server sees them: keys made with openssl at test time, the
// public keys fetched over HTTP from the running gateway (directly and through nginx), a key
// rotation across a restart, and starts that are refused for a bad key.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  importSPKI,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/index.js';
import { makePki, type Pki } from '../helpers/certificates.js';
import { testConfig } from '../helpers/config.js';
import { readFixture } from '../helpers/fixtures.js';
import { request as httpsRequest } from '../helpers/https-client.js';
import { captureLog } from '../helpers/logs.js';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';
import { startStandInJitsi, type StandInJitsi } from '../helpers/stand-in-jitsi.js';

const run = promisify(execFile);
const KEY_PATH = '/_gateway/keys';
const NAVIGATE = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const alice = readFixture('plain').headers;

let dir: string;
let jitsi: StandInJitsi;
let running: RunningGateway[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jcg-token-keys-'));
  jitsi = await startStandInJitsi();
  await Promise.all(['first', 'second'].map((name) => openssl(name)));
});

afterEach(async () => {
  await Promise.all(running.map((gateway) => gateway.close()));
  running = [];
});

afterAll(async () => {
  await jitsi?.close();
  await rm(dir, { recursive: true, force: true });
});

/** An RSA key as an operator makes one: `openssl genpkey`, PKCS#8 PEM. */
async function openssl(name: string): Promise<void> {
  const file = join(dir, `${name}.pem`);
  await run('openssl', [
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-out',
    file,
  ]);
  await run('openssl', ['pkey', '-in', file, '-pubout', '-out', join(dir, `${name}.pub.pem`)]);
}

async function gateway(env: Record<string, string>): Promise<RunningGateway> {
  const started = await startGateway({
    config: testConfig({ GATEWAY_UPSTREAM_URL: jitsi.url, ...env }),
    logger: captureLog().logger,
  });
  running.push(started);
  return started;
}

function rs256(keyId: string, key: string, previous?: { keyId: string; key: string }) {
  return {
    GATEWAY_TOKEN_ALGORITHM: 'RS256',
    GATEWAY_TOKEN_KEY_FILE: join(dir, `${key}.pem`),
    GATEWAY_TOKEN_KEY_ID: keyId,
    ...(previous
      ? {
          GATEWAY_TOKEN_PREVIOUS_KEY_FILE: join(dir, `${previous.key}.pem`),
          GATEWAY_TOKEN_PREVIOUS_KEY_ID: previous.keyId,
        }
      : {}),
  };
}

/**
 * A holder's page navigation straight to the gateway (from loopback, a trusted proxy). Not
 * `fetch`: it would send its own `Sec-Fetch-Mode: cors`.
 */
function navigate(started: RunningGateway, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const outgoing = httpGet(
      `${started.url}${path}`,
      { headers: { ...alice, ...NAVIGATE } },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response));
      },
    );
    outgoing.once('error', reject);
  });
}

/** The token a holder's navigation to `path` was redirected with. */
async function tokenFor(started: RunningGateway, path: string): Promise<string> {
  const response = await navigate(started, path);
  expect(response.statusCode).toBe(302);
  return new URL(response.headers.location ?? '', started.url).searchParams.get('jwt') ?? '';
}

/** The URL Prosody builds: `<asap_key_server>/<lowercase hex sha256 of kid>.pem`. */
function asapKeyUrl(server: string, kid: string): string {
  return `${server}/${createHash('sha256').update(kid).digest('hex')}.pem`;
}

async function fetchPem(server: string, kid: string): Promise<string> {
  const response = await fetch(asapKeyUrl(server, kid));
  expect(response.status).toBe(200);
  return response.text();
}

describe('RS256 tokens and the public keys the gateway serves', () => {
  it('mints a token that verifies with the public key Prosody fetches by its kid', async () => {
    const started = await gateway(rs256('gateway-2026-05', 'first'));
    const token = await tokenFor(started, '/Team%20Sync');

    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'RS256',
      typ: 'JWT',
      kid: 'gateway-2026-05',
    });
    const pem = await fetchPem(`${started.url}${KEY_PATH}`, 'gateway-2026-05');
    const { payload } = await jwtVerify(token, await importSPKI(pem, 'RS256'), {
      issuer: 'jitsi',
      audience: 'jitsi',
    });
    expect(payload).toMatchObject({ sub: 'meet.jitsi', room: 'team%20sync' });
  });

  it('serves the same key as a JWKS document that verifies the token', async () => {
    const started = await gateway(rs256('gateway-2026-05', 'first'));
    const token = await tokenFor(started, '/acme/standup');

    const response = await fetch(`${started.url}${KEY_PATH}/jwks.json`);
    expect(response.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
    const jwks = (await response.json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks));
    expect(payload).toMatchObject({ sub: 'acme', room: 'standup' });
  });

  it('names a key without a configured kid by its thumbprint, and serves it under that', async () => {
    const started = await gateway({
      GATEWAY_TOKEN_ALGORITHM: 'RS256',
      GATEWAY_TOKEN_KEY_FILE: join(dir, 'first.pem'),
    });
    const token = await tokenFor(started, '/room');
    const kid = decodeProtectedHeader(token).kid as string;

    expect(kid).toMatch(/^[\w-]{43}$/);
    const pem = await fetchPem(`${started.url}${KEY_PATH}`, kid);
    await expect(jwtVerify(token, await importSPKI(pem, 'RS256'))).resolves.toBeDefined();
  });

  it('signs with the new key after a rotation and still serves and accepts the old one', async () => {
    const before = await gateway(rs256('key-1', 'first'));
    const oldToken = await tokenFor(before, '/room');
    await before.close();

    const after = await gateway(rs256('key-2', 'second', { keyId: 'key-1', key: 'first' }));
    const newToken = await tokenFor(after, '/room');
    expect(decodeProtectedHeader(newToken).kid).toBe('key-2');

    const server = `${after.url}${KEY_PATH}`;
    const oldKey = await importSPKI(await fetchPem(server, 'key-1'), 'RS256');
    const newKey = await importSPKI(await fetchPem(server, 'key-2'), 'RS256');
    await expect(jwtVerify(oldToken, oldKey)).resolves.toBeDefined();
    await expect(jwtVerify(newToken, newKey)).resolves.toBeDefined();
    await expect(jwtVerify(newToken, oldKey)).rejects.toThrow();

    const kept = await navigate(after, `/room?jwt=${oldToken}`);
    expect(kept.statusCode).toBe(200);
    expect(jitsi.requests.at(-1)?.url).toBe(`/room?jwt=${oldToken}`);
  });

  it('no longer accepts a token of a key that was rotated out', async () => {
    const before = await gateway(rs256('key-1', 'first'));
    const oldToken = await tokenFor(before, '/room');
    await before.close();

    const after = await gateway(rs256('key-2', 'second'));
    const replaced = await navigate(after, `/room?jwt=${oldToken}`);
    expect(replaced.statusCode).toBe(302);
    expect((await fetch(asapKeyUrl(`${after.url}${KEY_PATH}`, 'key-1'))).status).toBe(404);
  });
});

describe('HS384 and HS512 with the secret in a file', () => {
  it.each(['HS384', 'HS512'])('mints %s tokens that verify with the raw secret', async (alg) => {
    const secret = `file-secret-${alg}-that-is-long-enough-for-it-0123456789`;
    const secretFile = join(dir, `${alg}.secret`);
    await writeFile(secretFile, `${secret}\n`);
    const started = await gateway({
      JWT_APP_SECRET: '',
      JWT_APP_SECRET_FILE: secretFile,
      GATEWAY_TOKEN_ALGORITHM: alg,
    });

    const token = await tokenFor(started, '/room');
    expect(decodeProtectedHeader(token)).toEqual({ alg, typ: 'JWT' });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: [alg],
    });
    expect(payload.room).toBe('room');
  });
});

describe('a start with an unusable key', () => {
  it.each<[string, () => Promise<Record<string, string>>, (file: string) => string]>([
    [
      'a key file that does not exist',
      async () => ({
        GATEWAY_TOKEN_ALGORITHM: 'RS256',
        GATEWAY_TOKEN_KEY_FILE: join(dir, 'absent.pem'),
      }),
      (file) => `token.keyFile (GATEWAY_TOKEN_KEY_FILE): ${file} cannot be read (ENOENT)`,
    ],
    [
      'a public key given as the private key',
      async () => ({
        GATEWAY_TOKEN_ALGORITHM: 'RS256',
        GATEWAY_TOKEN_KEY_FILE: join(dir, 'first.pub.pem'),
      }),
      (file) =>
        `token.keyFile (GATEWAY_TOKEN_KEY_FILE): ${file} holds no readable private key (PEM, PKCS#8 or PKCS#1, unencrypted)`,
    ],
  ])('is refused for %s, with the setting and the file named', async (_case, env, message) => {
    const settings = await env();
    await expect(gateway(settings)).rejects.toMatchObject({
      code: 'KEY_INVALID',
      message: message(settings.GATEWAY_TOKEN_KEY_FILE as string),
    });
  });

  it('makes the command exit 1 and log why, without the key', async () => {
    const keyFile = join(dir, 'first.pub.pem');
    const result = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts'], {
      env: {
        PATH: process.env.PATH,
        GATEWAY_PORT: '0',
        GATEWAY_COOKIE_SECRET: 'a-cookie-secret-that-is-long-enough-0123',
        GATEWAY_TOKEN_ALGORITHM: 'RS256',
        GATEWAY_TOKEN_KEY_FILE: keyFile,
      },
    }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );

    expect(result.code).toBe(1);
    const fatal = result.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.level === 60);
    expect(fatal).toMatchObject({
      code: 'KEY_INVALID',
      msg: `cannot start: token.keyFile (GATEWAY_TOKEN_KEY_FILE): ${keyFile} holds no readable private key (PEM, PKCS#8 or PKCS#1, unencrypted)`,
    });
    expect(result.stdout).not.toContain('BEGIN');
  });
});

describe('the public keys behind nginx', () => {
  let pki: Pki;
  let nginx: RunningNginx;
  let started: RunningGateway;

  beforeAll(async () => {
    pki = await makePki();
    started = await startGateway({
      config: testConfig({ GATEWAY_UPSTREAM_URL: jitsi.url, ...rs256('edge-key', 'first') }),
      logger: captureLog().logger,
    });
    nginx = await startNginx({ pki, gatewayPort: started.port, verifyClient: 'optional' });
  });

  afterAll(async () => {
    await nginx?.stop();
    await started?.close();
    await pki?.cleanup();
  });

  it('reach a client without a certificate, as Prosody fetches them, and never reach Jitsi', async () => {
    const before = jitsi.requests.length;
    const path = new URL(asapKeyUrl(`https://meet.example${KEY_PATH}`, 'edge-key')).pathname;
    const response = await httpsRequest(nginx, path);

    expect(response.status).toBe(200);
    const token = await httpsRequest(nginx, '/room', { client: 'alice', headers: NAVIGATE });
    const jwt = new URL(token.headers.location ?? '', 'https://x').searchParams.get('jwt') ?? '';
    await expect(jwtVerify(jwt, await importSPKI(response.body, 'RS256'))).resolves.toBeDefined();
    expect(jitsi.requests.length).toBe(before);
  });
});
