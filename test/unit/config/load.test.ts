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

  it.each([
    ['a value without quotes', '{"inject":{"cookieSecret":Sup3rS3cretCookieValue0123456789}}'],
    ['a file that is only a secret', 'Sup3rS3cretPW-0123456789'],
    ['a missing comma', '{"token":{"secret":"Sup3rS3cretTokenValue" "appId":"x"}}'],
  ])('never quotes a config file that is not JSON: %s', (_case, text) => {
    const result = loadConfig({ file: configFile(text), env: SECRETS });
    const problems = result.ok ? [] : result.problems;

    expect(problems).toEqual([expect.stringMatching(/: is not valid JSON/)]);
    expect(problems.join('\n')).not.toMatch(/Sup3r|S3cret/);
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

  it('counts an empty environment variable as unset, so the file or the default applies', () => {
    const file = configFile('{"identity": {"trustedProxies": ["192.0.2.7"]}}');
    const fromFile = loadConfig({
      env: { ...SECRETS, GATEWAY_CONFIG: file, GATEWAY_TRUSTED_PROXIES: '' },
    });
    const fromDefault = loadConfig({
      env: {
        ...SECRETS,
        GATEWAY_TRUSTED_PROXIES: '',
        JWT_ACCEPTED_AUDIENCES: ' , ',
        GATEWAY_PORT: '',
      },
    });
    expect(fromFile.ok && fromFile.config.identity.trustedProxies).toEqual(['192.0.2.7']);
    expect(fromDefault.ok && fromDefault.config).toMatchObject({
      identity: { trustedProxies: ['loopback'] },
      token: { audience: 'jitsi' },
      listen: { port: 8080 },
    });
  });

  it('trusts no peer when a config file lists none', () => {
    const file = configFile('{"identity": {"trustedProxies": []}}');
    const result = loadConfig({ file, env: SECRETS });
    expect(result.ok && result.config.identity.trustedProxies).toEqual([]);
  });

  it('returns a frozen configuration', () => {
    const result = loadConfig({ env: SECRETS });
    expect(result.ok && Object.isFrozen(result.config.identity.trustedProxies)).toBe(true);
  });
});

function problemsOf(env: Record<string, string>, file?: string): string[] {
  const result = loadConfig({ file, env: { ...SECRETS, ...env } });
  return result.ok ? [] : result.problems;
}

describe('token.audience', () => {
  it.each([
    ['jitsi', 'jitsi'],
    ['jitsi,other', 'jitsi'],
    [' first , second ,', 'first'],
    [',, only', 'only'],
  ])('takes the first audience of JWT_ACCEPTED_AUDIENCES=%j as the one aud', (value, audience) => {
    const result = loadConfig({ env: { ...SECRETS, JWT_ACCEPTED_AUDIENCES: value } });
    expect(result.ok && result.config.token.audience).toBe(audience);
  });

  it('takes the first of a list in a config file, and refuses an empty list', () => {
    const listed = loadConfig({
      file: configFile('{"token": {"audience": ["a", "b"]}}'),
      env: SECRETS,
    });
    expect(listed.ok && listed.config.token.audience).toBe('a');
    expect(problemsOf({}, configFile('{"token": {"audience": []}}'))).toEqual([
      'token.audience (JWT_ACCEPTED_AUDIENCES): must name at least one audience',
    ]);
  });
});

describe('upstream.url', () => {
  it.each([
    ['http://127.0.0.1:8000', 'http://127.0.0.1:8000'],
    ['https://jitsi.example/base/', 'https://jitsi.example/base/'],
  ])('accepts %s', (value, url) => {
    const result = loadConfig({ env: { ...SECRETS, GATEWAY_UPSTREAM_URL: value } });
    expect(result.ok && result.config.upstream.url).toBe(url);
  });

  it.each([
    [
      'http://user:SECRETPW@127.0.0.1:20090/base?q=1',
      'must not hold a user name or password: the gateway sends no credentials upstream',
    ],
    [
      'http://SECRETPW@127.0.0.1:20090/',
      'must not hold a user name or password: the gateway sends no credentials upstream',
    ],
    [
      'http://:SECRETPW@127.0.0.1:20090/',
      'must not hold a user name or password: the gateway sends no credentials upstream',
    ],
    [
      'http://127.0.0.1:20090/base?q=1',
      "must not have a query: each request's own query is sent upstream unchanged",
    ],
    [
      'http://127.0.0.1:20090/base?',
      "must not have a query: each request's own query is sent upstream unchanged",
    ],
    ['http://127.0.0.1:20090/base#top', 'must not have a fragment'],
    ['ftp://SECRETPW@jitsi', 'must start with http:// or https://'],
    ['ws://127.0.0.1:20090', 'must start with http:// or https://'],
    ['127.0.0.1:SECRETPW', 'must be an absolute http or https URL such as http://127.0.0.1:8000'],
    ['jitsi:8000', 'must start with http:// or https://'],
    ['/relative', 'must be an absolute http or https URL such as http://127.0.0.1:8000'],
  ])('refuses %s, never quoting it', (value, rule) => {
    const problems = problemsOf({ GATEWAY_UPSTREAM_URL: value });
    expect(problems).toEqual([`upstream.url (GATEWAY_UPSTREAM_URL): ${rule}`]);
    expect(problems.join('\n')).not.toContain('SECRETPW');
  });
});

describe('identity.trustedProxies', () => {
  const everyAddress =
    "covers every address: trusting every address lets anyone assert a certificate identity; list nginx's addresses";

  it.each(['0.0.0.0/0', '::/0', '10.1.2.3/0', '0.0.0.0/0.0.0.0', '::ffff:0.0.0.0/96'])(
    'refuses %s, saying that it trusts every address',
    (entry) => {
      expect(problemsOf({ GATEWAY_TRUSTED_PROXIES: `10.0.0.0/8, ${entry}` })).toEqual([
        `identity.trustedProxies (GATEWAY_TRUSTED_PROXIES): ${JSON.stringify(entry)} ${everyAddress}`,
      ]);
    },
  );

  it('still calls an entry that is no address by what it is', () => {
    expect(problemsOf({ GATEWAY_TRUSTED_PROXIES: 'nginx.local' })).toEqual([
      'identity.trustedProxies (GATEWAY_TRUSTED_PROXIES): "nginx.local" is not an address, a CIDR range or a known name',
    ]);
  });

  it('accepts broad ranges that leave addresses out', () => {
    const result = loadConfig({
      env: { ...SECRETS, GATEWAY_TRUSTED_PROXIES: '0.0.0.0/1, ::/1, loopback, uniquelocal' },
    });
    expect(result.ok).toBe(true);
  });
});

describe('whole-number settings', () => {
  it.each(['0x50', '1e3', '80.0', '-1', '+80', 'abc', '70000', '0b1'])(
    'refuses GATEWAY_PORT=%s',
    (value) => {
      expect(problemsOf({ GATEWAY_PORT: value })).toEqual([
        'listen.port (GATEWAY_PORT): must be a whole number between 0 and 65535',
      ]);
    },
  );

  it.each([
    ['"abc"', 'must be a whole number between 0 and 65535'],
    ['80.5', 'must be a whole number between 0 and 65535'],
    ['true', 'must be a whole number between 0 and 65535'],
  ])('refuses "port": %s in a config file', (value, rule) => {
    expect(problemsOf({}, configFile(`{"listen": {"port": ${value}}}`))).toEqual([
      `listen.port (GATEWAY_PORT): ${rule}`,
    ]);
  });

  it('accepts plain decimal digits, in the environment or as text in a file', () => {
    const fromEnv = loadConfig({ env: { ...SECRETS, GATEWAY_PORT: '8443' } });
    const fromFile = loadConfig({ file: configFile('{"listen": {"port": "9000"}}'), env: SECRETS });
    expect(fromEnv.ok && fromEnv.config.listen.port).toBe(8443);
    expect(fromFile.ok && fromFile.config.listen.port).toBe(9000);
  });

  it.each([
    [
      'GATEWAY_UPSTREAM_TIMEOUT',
      '0x10',
      'upstream.timeoutSeconds',
      'must be a whole number of at least 1',
    ],
    ['GATEWAY_CLOCK_SKEW', '-5', 'token.clockSkewSeconds', 'must be a whole number of at least 0'],
    [
      'GATEWAY_BACKSTOP_MAX_REDIRECTS',
      '1e1',
      'inject.backstopMaxRedirects',
      'must be a whole number between 1 and 10',
    ],
    [
      'GATEWAY_MAX_HEADER_BYTES',
      '4096.5',
      'limits.maxHeaderBytes',
      'must be a whole number between 4096 and 1048576',
    ],
  ])('states the rule when %s=%s', (env, value, key, rule) => {
    expect(problemsOf({ [env]: value })).toEqual([`${key} (${env}): ${rule}`]);
  });
});
