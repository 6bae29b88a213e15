import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';

const SECRETS = {
  JWT_APP_SECRET: 'a'.repeat(32),
  GATEWAY_COOKIE_SECRET: 'b'.repeat(32),
};

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function configFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'jcg-config-'));
  dirs.push(dir);
  const file = join(dir, 'gateway.json');
  writeFileSync(file, content);
  return file;
}

describe('loadConfig', () => {
  it('starts from the defaults in config/default.json', () => {
    const result = loadConfig({ env: SECRETS });
    expect(result.ok && result.config).toMatchObject({
      listen: { host: '127.0.0.1', port: 8080 },
      upstream: { url: 'http://127.0.0.1:8000' },
      identity: { trustedProxies: ['loopback'], verifyHeader: 'x-ssl-client-verify' },
      token: { appId: 'jitsi', xmppDomain: 'meet.jitsi', secret: SECRETS.JWT_APP_SECRET },
      inject: { guests: 'pass' },
    });
  });

  it('lets a file named by GATEWAY_CONFIG and then the environment override it', () => {
    const file = configFile('{"listen": {"port": 9000}, "token": {"appId": "from-file"}}');
    const result = loadConfig({
      env: {
        ...SECRETS,
        GATEWAY_CONFIG: file,
        JWT_APP_ID: 'from-env',
        XMPP_DOMAIN: 'meet.example',
      },
    });
    expect(result.ok && result.config).toMatchObject({
      listen: { port: 9000 },
      token: { appId: 'from-env', xmppDomain: 'meet.example' },
    });
  });

  it('reads a comma list of trusted proxies from the environment', () => {
    const result = loadConfig({
      env: { ...SECRETS, GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7' },
    });
    expect(result.ok && result.config.identity.trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.7']);
  });

  it('reports every problem at once, naming the key and the variable', () => {
    const file = configFile('{"listen": {"prot": 1}, "inject": {"guests": "maybe"}}');
    const result = loadConfig({
      file,
      env: {
        GATEWAY_PORT: 'eighty',
        GATEWAY_UPSTREAM_URL: 'ftp://jitsi',
        GATEWAY_TRUSTED_PROXIES: 'not-an-address',
        JWT_APP_SECRET: 'short',
      },
    });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        'listen.prot: is not a known setting',
        expect.stringMatching(/^listen\.port \(GATEWAY_PORT\): /),
        expect.stringMatching(/^upstream\.url \(GATEWAY_UPSTREAM_URL\): /),
        expect.stringMatching(
          /^identity\.trustedProxies \(GATEWAY_TRUSTED_PROXIES\): .*not-an-address/,
        ),
        expect.stringMatching(/^inject\.guests \(GATEWAY_GUESTS\): /),
        'token.secret (JWT_APP_SECRET): must be at least 32 characters long, but is 5',
        'inject.cookieSecret (GATEWAY_COOKIE_SECRET): is required and has no default',
      ]),
    );
    expect(problems.join('\n')).not.toContain('short');
  });

  it('reports a config file that is not JSON', () => {
    const file = configFile('{ nope');
    const result = loadConfig({ file, env: SECRETS });
    expect(result.ok ? [] : result.problems).toEqual([
      expect.stringMatching(/^config file .*gateway\.json: is not valid JSON/),
    ]);
  });

  it('reports a config file that cannot be read', () => {
    const result = loadConfig({ file: '/nonexistent/gateway.json', env: SECRETS });
    expect(result.ok ? [] : result.problems).toEqual([
      'config file /nonexistent/gateway.json: cannot be read (ENOENT)',
    ]);
  });

  it('fills missing secrets only in development mode, and says so', () => {
    const result = loadConfig({ env: {}, development: true });
    expect(result.ok && result.config.token.secret).toHaveLength(43);
    expect(result.ok && result.warnings).toEqual([
      expect.stringMatching(/^DEVELOPMENT MODE: token\.secret \(JWT_APP_SECRET\) is not set/),
      expect.stringMatching(/^DEVELOPMENT MODE: inject\.cookieSecret/),
    ]);
  });

  it('returns a frozen configuration', () => {
    const result = loadConfig({ env: SECRETS });
    expect(result.ok && Object.isFrozen(result.config.identity.trustedProxies)).toBe(true);
  });
});
