// The operator tools, run as an operator runs them: a new process, its output and exit code.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { TEST_APP_SECRET, TEST_COOKIE_SECRET } from '../../helpers/config.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KEY = new TextEncoder().encode(TEST_APP_SECRET);
const CAROL_DN = 'UID=carol01+CN=Carol Admin,OU=Staff,OU=Admins,O=Example Org,C=DE';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          JWT_APP_SECRET: TEST_APP_SECRET,
          GATEWAY_COOKIE_SECRET: TEST_COOKIE_SECRET,
          ...env,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir: string;
let rulesFile: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jcg-cli-'));
  rulesFile = join(dir, 'gateway.json');
  const list = [
    { when: { subject: { OU: 'Admins' } }, set: { moderator: true } },
    {
      when: { serial: ['6F:2E:32:AC:32:A5:41:FD:8A:31:31:DC:2D:A4:D5:A2:7A:B2:B7:22'] },
      refuse: 'revoked',
    },
  ];
  await writeFile(rulesFile, JSON.stringify({ rules: { list } }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function verified(token: string): Promise<JWTPayload> {
  return (await jwtVerify(token, KEY)).payload;
}

function sign(claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(KEY);
}

const now = () => Math.floor(Date.now() / 1000);

function goodClaims(extra: JWTPayload = {}): JWTPayload {
  return {
    iss: 'jitsi',
    aud: 'jitsi',
    sub: 'meet.jitsi',
    room: 'team%20sync',
    nbf: now() - 60,
    exp: now() + 600,
    context: { user: { id: 'x', name: 'Alice Example' } },
    ...extra,
  };
}

// Each run starts a new Node process with tsx: generous time on a busy machine.
describe.concurrent('jitsi-cert-gateway check-config', { timeout: 60_000 }, () => {
  it('prints that a valid configuration is valid and exits 0', async ({ expect }) => {
    const run = await cli(['check-config', '--config', rulesFile]);
    expect(run).toMatchObject({ code: 0, stdout: 'configuration is valid\n' });
  });

  it('lists every problem with its key, rules included, and exits 1', async ({ expect }) => {
    const run = await cli(['check-config'], {
      GATEWAY_RULES: '[{"when":{"subject":{"OU":"Admins"}},"set":{"moderator":"yes"}}]',
      JWT_APP_SECRET: 'short',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('rules.list.0.set.moderator: must be true or false');
    expect(run.stderr).toContain('token.secret (JWT_APP_SECRET): must be at least 32 characters');
    expect(run.stdout).toBe('');
  });

  it('refuses a key file that the start would refuse, and exits 1', async ({ expect }) => {
    const run = await cli(['check-config'], {
      GATEWAY_TOKEN_ALGORITHM: 'RS256',
      GATEWAY_TOKEN_KEY_FILE: '/nonexistent/key.pem',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'token.keyFile (GATEWAY_TOKEN_KEY_FILE): /nonexistent/key.pem cannot be read (ENOENT)',
    );
    expect(run.stdout).toBe('');
  });
});

describe.concurrent('jitsi-cert-gateway token', { timeout: 60_000 }, () => {
  it('prints the token the gateway would mint, rules applied', async ({ expect }) => {
    const run = await cli([
      'token',
      '--config',
      rulesFile,
      '--dn',
      CAROL_DN,
      '--room',
      'https://meet.example.org/Acme/Team%20Sync?lang=de',
      '--email',
      'carol@example.org',
    ]);

    expect(run.code).toBe(0);
    expect(await verified(run.stdout.trim())).toMatchObject({
      iss: 'jitsi',
      aud: 'jitsi',
      sub: 'acme',
      room: 'team%20sync',
      context: { user: { name: 'Carol Admin', email: 'carol@example.org', moderator: true } },
    });
  });

  it('says which rule refuses the certificate and exits 1', async ({ expect }) => {
    const run = await cli([
      'token',
      '--config',
      rulesFile,
      '--dn',
      'CN=Dave Example,O=Example Org,C=DE',
      '--room',
      '/r',
      '--serial',
      '6F2E32AC32A541FD8A3131DC2DA4D5A27AB2B722',
    ]);
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'refused by rules.list.1: revoked\n' });
  });

  it('exits 2 with the usage when --dn or --room is missing', async ({ expect }) => {
    const run = await cli(['token', '--dn', 'CN=A']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^token needs --dn and --room\nusage:/);
  });
});

describe.concurrent('jitsi-cert-gateway explain', { timeout: 60_000 }, () => {
  it('prints one line per check and exits 1 for a token for another room', async ({ expect }) => {
    const run = await cli([
      'explain',
      await sign(goodClaims({ room: 'other' })),
      '--url',
      '/Team%20Sync',
    ]);

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ok {4}header typ {13}"JWT"$/m);
    expect(run.stdout).toMatch(/^fail {2}room {19}is "other", but the client joins "team%20sync"/m);
    expect(run.stdout).toMatch(
      /Jitsi refuses this token for \/Team%20Sync: 1 check\(s\) failed\n$/,
    );
  });

  it('reads the token from the URL, fragment first, as the client does', async ({ expect }) => {
    const token = await sign(goodClaims());
    const url = `https://m.example/Team%20Sync?jwt=garbage#jwt=%22${token}%22`;
    const run = await cli(['explain', '--url', url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Jitsi accepts this token for \/Team%20Sync\n$/);
  });

  it('exits 2 when there is no token to explain', async ({ expect }) => {
    const run = await cli(['explain', '--url', '/Team%20Sync']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^explain needs a TOKEN, or a --url that carries one/);
  });
});
