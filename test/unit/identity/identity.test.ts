import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/index.js';
import { GatewayError } from '../../../src/errors.js';
import {
  createIdentityReader,
  type GuestReason,
  type Identity,
  type IdentityReading,
} from '../../../src/identity/index.js';

type Headers = Record<string, string | string[] | undefined>;

const FIXTURES = new URL('../../fixtures/nginx-headers/', import.meta.url);
const NGINX_PEER = '127.0.0.1';
const STRANGER = '203.0.113.7';

function loadFixture(file: string): Headers {
  const fixture = JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as { headers: Headers };
  return fixture.headers;
}

const fixtureFiles = readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.json'))
  .sort();

function identitySettings(identity: Record<string, unknown> = {}) {
  return configSchema.parse({ identity }).identity;
}

const reader = createIdentityReader(identitySettings());

function expectHolder(reading: IdentityReading): Identity {
  if (reading.kind !== 'holder')
    throw new Error(`expected a holder, got ${JSON.stringify(reading)}`);
  return reading.identity;
}

function expectInvalid(reading: IdentityReading): GatewayError {
  if (reading.kind !== 'invalid')
    throw new Error(`expected invalid, got ${JSON.stringify(reading)}`);
  return reading.error;
}

function valuesOf(identity: Identity, type: string): string[] {
  return identity.attributes.filter((item) => item.type === type).map((item) => item.value);
}

function sha256Prefix(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** The README table next to the fixtures, one row per file. */
type FixtureRow =
  | { kind: 'holder'; name: string; email?: string; attributes?: Record<string, string[]> }
  | { kind: 'guest'; reason: GuestReason };

const README_TABLE: Record<string, FixtureRow> = {
  'plain.json': {
    kind: 'holder',
    name: 'Alice Example',
    email: 'alice@example.org',
    attributes: { emailAddress: ['alice@example.org'], OU: ['Staff'] },
  },
  'utf8.json': {
    kind: 'holder',
    name: 'José Müller-Łukasz',
    attributes: { CN: ['José Müller-Łukasz'], O: ['Société Exemple'] },
  },
  'comma.json': {
    kind: 'holder',
    name: 'Smith, Bob',
    attributes: { O: ['Example, Inc.'], OU: ['R&D'] },
  },
  'multival.json': {
    kind: 'holder',
    name: 'Carol Admin',
    attributes: { UID: ['carol01'], OU: ['Staff', 'Admins'] },
  },
  'leadspace.json': {
    kind: 'holder',
    name: 'Frank Leading Trailing',
    attributes: { CN: [' Frank Leading Trailing '], serialNumber: ['12345'] },
  },
  'san.json': { kind: 'holder', name: 'Dave Example', email: 'dave@example.org' },
  'nocert.json': { kind: 'guest', reason: 'no-certificate' },
  'foreign-optional_no_ca.json': { kind: 'guest', reason: 'verify-failed' },
};

describe('recorded nginx headers', () => {
  it('has a README table row for every fixture file and a file for every row', () => {
    expect(fixtureFiles).toEqual(Object.keys(README_TABLE).sort());
  });

  it.each(fixtureFiles)('reads %s from nginx as the README table says', (file) => {
    const headers = loadFixture(file);
    const row = README_TABLE[file];
    const reading = reader.read(NGINX_PEER, headers);

    if (row?.kind !== 'holder') {
      expect(reading).toEqual({ kind: 'guest', reason: row?.reason });
      return;
    }
    const identity = expectHolder(reading);
    expect(identity.name).toBe(row.name);
    expect(identity.email).toBe(row.email);
    for (const [type, values] of Object.entries(row.attributes ?? {})) {
      expect(valuesOf(identity, type), type).toEqual(values);
    }
  });

  it.each(fixtureFiles.filter((file) => README_TABLE[file]?.kind === 'holder'))(
    'keeps the headers of %s as received and derives the id from issuer and serial',
    (file) => {
      const headers = loadFixture(file);
      const identity = expectHolder(reader.read(NGINX_PEER, headers));
      const issuerDn = headers['x-ssl-client-i-dn'] as string;
      const serial = headers['x-ssl-client-serial'] as string;

      expect(identity).toMatchObject({
        subjectDn: headers['x-ssl-client-s-dn'],
        issuerDn,
        serial,
        fingerprint: headers['x-ssl-client-fingerprint'],
        id: sha256Prefix(`${issuerDn}\n${serial}`),
      });
      expect(identity.id).toMatch(/^[0-9a-f]{32}$/);
    },
  );

  it('reads the plain fixture into exactly this identity', () => {
    const identity = expectHolder(reader.read(NGINX_PEER, loadFixture('plain.json')));

    expect(identity).toEqual({
      id: sha256Prefix(
        'CN=Example Test Root CA,O=Example Org,C=DE\n6F2E32AC32A541FD8A3131DC2DA4D5A27AB2B71D',
      ),
      name: 'Alice Example',
      email: 'alice@example.org',
      subjectDn: 'emailAddress=alice@example.org,CN=Alice Example,OU=Staff,O=Example Org,C=DE',
      issuerDn: 'CN=Example Test Root CA,O=Example Org,C=DE',
      serial: '6F2E32AC32A541FD8A3131DC2DA4D5A27AB2B71D',
      fingerprint: '56a6fc29eb2d671a5620480981c5b1125cf40eb0',
      attributes: [
        { type: 'emailAddress', value: 'alice@example.org', rdn: 0 },
        { type: 'CN', value: 'Alice Example', rdn: 1 },
        { type: 'OU', value: 'Staff', rdn: 2 },
        { type: 'O', value: 'Example Org', rdn: 3 },
        { type: 'C', value: 'DE', rdn: 4 },
      ],
    });
  });

  it('reads UID and CN of the multival fixture as one RDN', () => {
    const identity = expectHolder(reader.read(NGINX_PEER, loadFixture('multival.json')));
    const rdnOf = (type: string) => identity.attributes.find((item) => item.type === type)?.rdn;

    expect(rdnOf('UID')).toBe(0);
    expect(rdnOf('CN')).toBe(0);
    expect(rdnOf('OU')).toBe(1);
  });

  it.each(fixtureFiles)(
    'reads %s from a peer that is not a trusted proxy as untrusted-peer',
    (file) => {
      expect(reader.read(STRANGER, loadFixture(file))).toEqual({
        kind: 'guest',
        reason: 'untrusted-peer',
      });
    },
  );
});

describe('verify header', () => {
  const plain = loadFixture('plain.json');

  it.each<[string, string, string | string[] | undefined]>([
    ['exactly SUCCESS', 'holder', 'SUCCESS'],
    ['NONE', 'no-certificate', 'NONE'],
    ['absent', 'no-certificate', undefined],
    ['FAILED with a reason', 'verify-failed', 'FAILED:certificate has expired'],
    ['SUCCESS with trailing junk', 'verify-failed', 'SUCCESS '],
    ['SUCCESS in lower case', 'verify-failed', 'success'],
    ['empty', 'verify-failed', ''],
    ['sent twice', 'verify-failed', ['SUCCESS', 'SUCCESS']],
    ['sent twice and joined by Node', 'verify-failed', 'SUCCESS, SUCCESS'],
  ])('reads a trusted request whose verify header is %s as %s', (_header, outcome, verify) => {
    const reading = reader.read(NGINX_PEER, { ...plain, 'x-ssl-client-verify': verify });

    const expected = outcome === 'holder' ? 'holder' : { kind: 'guest', reason: outcome };
    expect(reading.kind === 'holder' ? 'holder' : reading).toEqual(expected);
  });
});

describe('trusted proxies', () => {
  const plain = loadFixture('plain.json');

  it('trusts IPv4 and IPv6 loopback by default', () => {
    expect(reader.isTrustedPeer('127.0.0.1')).toBe(true);
    expect(reader.isTrustedPeer('::1')).toBe(true);
    expect(reader.isTrustedPeer('::ffff:127.0.0.1')).toBe(true);
    expect(reader.isTrustedPeer(STRANGER)).toBe(false);
    expect(reader.isTrustedPeer(undefined)).toBe(false);
  });

  it('reads a holder from an IPv4-mapped peer inside a configured CIDR range', () => {
    const ranged = createIdentityReader(identitySettings({ trustedProxies: ['10.0.0.0/8'] }));

    expect(ranged.read('::ffff:10.0.0.2', plain).kind).toBe('holder');
    expect(ranged.read(NGINX_PEER, plain)).toEqual({ kind: 'guest', reason: 'untrusted-peer' });
  });

  it('ignores X-Forwarded-For when deciding whether the peer is trusted', () => {
    const headers = { ...plain, 'x-forwarded-for': NGINX_PEER, forwarded: `for=${NGINX_PEER}` };

    expect(reader.read(STRANGER, headers)).toEqual({ kind: 'guest', reason: 'untrusted-peer' });
  });

  it('ignores the content of identity headers from an untrusted peer, even when malformed', () => {
    const headers = { 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-s-dn': 'CN=\\' };

    expect(reader.read(STRANGER, headers)).toEqual({ kind: 'guest', reason: 'untrusted-peer' });
  });

  it('reads an untrusted peer with an unconfigured X-SSL-Client- header as untrusted-peer', () => {
    expect(reader.read(STRANGER, { 'X-SSL-Client-V-Remain': '30' })).toEqual({
      kind: 'guest',
      reason: 'untrusted-peer',
    });
  });

  it('reads an untrusted peer without identity headers as a guest without certificate', () => {
    const headers = { host: 'meet.example.org', 'x-forwarded-for': NGINX_PEER };

    expect(reader.read(STRANGER, headers)).toEqual({ kind: 'guest', reason: 'no-certificate' });
    expect(reader.read(undefined, headers)).toEqual({ kind: 'guest', reason: 'no-certificate' });
  });

  it('refuses a trustedProxies entry that is not a range with CONFIG_INVALID', () => {
    // The config schema already refuses this; the reader does not rely on having been given
    // validated settings.
    const settings = { ...identitySettings(), trustedProxies: ['nginx'] };
    const create = () => createIdentityReader(settings);

    expect(create).toThrow(GatewayError);
    expect(create).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('malformed identity headers from a trusted proxy', () => {
  const plain = loadFixture('plain.json');
  const san = loadFixture('san.json');

  it.each<[string, Headers, string, string]>([
    [
      'a missing subject DN without a serial',
      { 'x-ssl-client-s-dn': undefined, 'x-ssl-client-serial': undefined },
      'DN_MALFORMED',
      'subject DN: header x-ssl-client-s-dn is missing or empty, and without x-ssl-client-i-dn and x-ssl-client-serial nothing names the certificate',
    ],
    [
      'an empty subject DN without an issuer DN',
      { 'x-ssl-client-s-dn': '', 'x-ssl-client-i-dn': undefined },
      'DN_MALFORMED',
      'subject DN: header x-ssl-client-s-dn is missing or empty, and without x-ssl-client-i-dn and x-ssl-client-serial nothing names the certificate',
    ],
    [
      'a subject DN sent twice',
      { 'x-ssl-client-s-dn': ['CN=Alice', 'CN=Mallory'] },
      'DN_MALFORMED',
      'subject DN: header x-ssl-client-s-dn was sent 2 times',
    ],
    [
      'a subject DN sent twice and joined by Node',
      { 'x-ssl-client-s-dn': 'CN=Alice, CN=Mallory' },
      'DN_MALFORMED',
      "subject DN: space after ',' at position 9, as when the header is sent twice",
    ],
    [
      'a dangling backslash in the subject DN',
      { 'x-ssl-client-s-dn': 'CN=Alice Smith\\' },
      'DN_MALFORMED',
      'subject DN: dangling backslash at position 14',
    ],
    [
      'invalid UTF-8 in the subject DN',
      { 'x-ssl-client-s-dn': 'CN=\\FF' },
      'DN_MALFORMED',
      'subject DN: CN value has invalid UTF-8 at position 3',
    ],
    [
      'a subject DN over 16 KiB',
      { 'x-ssl-client-s-dn': `CN=${'x'.repeat(20_000)}` },
      'DN_MALFORMED',
      'subject DN: is 20003 characters long, more than the 16384 allowed',
    ],
    [
      'an issuer DN sent twice',
      { 'x-ssl-client-i-dn': ['CN=CA', 'CN=CA'] },
      'DN_MALFORMED',
      'issuer DN: header x-ssl-client-i-dn was sent 2 times',
    ],
    [
      'a malformed issuer DN',
      { 'x-ssl-client-i-dn': 'CN=CA;O=x' },
      'DN_MALFORMED',
      "issuer DN: unescaped ';' at position 5",
    ],
    [
      'a serial that is not hexadecimal',
      { 'x-ssl-client-serial': '6F2E, 6F2F' },
      'CERT_MALFORMED',
      'serial: header x-ssl-client-serial is not hexadecimal',
    ],
    [
      'a serial sent twice',
      { 'x-ssl-client-serial': ['01', '02'] },
      'CERT_MALFORMED',
      'serial: header x-ssl-client-serial was sent 2 times',
    ],
    [
      'a fingerprint that is not hexadecimal',
      { 'x-ssl-client-fingerprint': 'zz' },
      'CERT_MALFORMED',
      'fingerprint: header x-ssl-client-fingerprint is not hexadecimal',
    ],
    [
      'a certificate that does not parse',
      { 'x-ssl-client-cert': 'hello' },
      'CERT_MALFORMED',
      'certificate: header x-ssl-client-cert does not hold exactly one PEM certificate',
    ],
    [
      'a certificate sent twice',
      { 'x-ssl-client-cert': [san['x-ssl-client-cert'] as string, 'x'] },
      'CERT_MALFORMED',
      'certificate: header x-ssl-client-cert was sent 2 times',
    ],
  ])('reads %s as invalid', (_case, change, code, message) => {
    const error = expectInvalid(reader.read(NGINX_PEER, { ...plain, ...change }));

    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });

  it('never quotes the certificate in the message of a certificate that does not parse', () => {
    const certificate = (san['x-ssl-client-cert'] as string).replace('MIIDezCC', 'MIIDezXX');
    const error = expectInvalid(
      reader.read(NGINX_PEER, { ...plain, 'x-ssl-client-cert': certificate }),
    );

    expect(error.code).toBe('CERT_MALFORMED');
    expect(error.message).toBe(
      'certificate: header x-ssl-client-cert does not hold a certificate that can be parsed',
    );
  });

  it('reads a certificate with an empty subject, as nginx sends it, by its email and serial', () => {
    // RFC 5280 allows an empty subject when subjectAltName names the holder; nginx drops the
    // empty header.
    const holder = expectHolder(
      reader.read(NGINX_PEER, { ...san, 'x-ssl-client-s-dn': undefined }),
    );

    expect(holder).toMatchObject({ name: 'dave@example.org', email: 'dave@example.org' });
    expect(holder.subjectDn).toBe('');
    expect(holder.id).toBe(expectHolder(reader.read(NGINX_PEER, san)).id);
  });

  it('names a certificate with an empty subject and no email by its serial', () => {
    const holder = expectHolder(
      reader.read(NGINX_PEER, {
        ...plain,
        'x-ssl-client-s-dn': '',
        'x-ssl-client-cert': undefined,
      }),
    );

    expect(holder.name).toBe(`certificate ${plain['x-ssl-client-serial'] as string}`);
  });

  it('removes control and bidirectional formatting characters from the display name', () => {
    const headers = {
      'x-ssl-client-verify': 'SUCCESS',
      'x-ssl-client-s-dn': 'CN=Ev\\00e\\0A \\E2\\80\\AEnimda',
    };
    const holder = expectHolder(reader.read(NGINX_PEER, headers));

    expect(holder.name).toBe('Eve nimda');
    // Rules still see the value as the certificate holds it.
    expect(holder.attributes[0]?.value).toBe('Ev\0e\n \u202enimda');
  });

  it.each([
    ['a right-to-left mark', 'CN=Ev\\E2\\80\\8Fnimda (admin)', 'Evnimda (admin)'],
    ['an Arabic letter mark', 'CN=Ev\\D8\\9Cnimda', 'Evnimda'],
    ['a zero-width space', 'CN=Ad\\E2\\80\\8Bmin', 'Admin'],
    ['a byte order mark and a soft hyphen', 'CN=\\EF\\BB\\BFAd\\C2\\ADmin', 'Admin'],
    ['a line separator', 'CN=Ad\\E2\\80\\A8min', 'Admin'],
  ])('removes %s from the display name', (_case, dn, name) => {
    const headers = { 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-s-dn': dn };

    expect(expectHolder(reader.read(NGINX_PEER, headers)).name).toBe(name);
  });

  it('keeps the zero-width joiner that scripts and emoji need', () => {
    const headers = {
      'x-ssl-client-verify': 'SUCCESS',
      'x-ssl-client-s-dn': 'CN=\\D9\\85\\E2\\80\\8C\\D9\\85',
    };

    expect(expectHolder(reader.read(NGINX_PEER, headers)).name).toBe('\u0645\u200c\u0645');
  });

  it('falls back to the email when nothing is left of the CN once cleaned', () => {
    const dn = 'emailAddress=eve@example.org,CN=\\E2\\80\\AE\\00';
    const headers = { 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-s-dn': dn };

    expect(expectHolder(reader.read(NGINX_PEER, headers)).name).toBe('eve@example.org');
  });

  it('reads a holder without the optional headers, with the id over the subject DN', () => {
    const headers = { 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-s-dn': 'CN=Alice' };

    expect(expectHolder(reader.read(NGINX_PEER, headers))).toEqual({
      id: sha256Prefix('CN=Alice'),
      name: 'Alice',
      subjectDn: 'CN=Alice',
      attributes: [{ type: 'CN', value: 'Alice', rdn: 0 }],
    });
  });
});

describe('holder identity', () => {
  const plain = loadFixture('plain.json');
  const read = (change: Headers): Identity =>
    expectHolder(reader.read(NGINX_PEER, { ...plain, ...change }));

  it('derives the same id from a lower-case serial', () => {
    const upper = read({});
    const lower = read({ 'x-ssl-client-serial': '6f2e32ac32a541fd8a3131dc2da4d5a27ab2b71d' });

    expect(lower.id).toBe(upper.id);
  });

  it('derives a different id from another issuer with the same serial', () => {
    expect(read({ 'x-ssl-client-i-dn': 'CN=Other CA' }).id).not.toBe(read({}).id);
  });

  it('derives the id from the subject DN when the serial is absent', () => {
    const identity = read({ 'x-ssl-client-serial': undefined });

    expect(identity.id).toBe(sha256Prefix(plain['x-ssl-client-s-dn'] as string));
  });

  it.each([
    ['the trimmed CN', 'CN=\\ \\ Grace\\ ,UID=grace', 'Grace'],
    ['a CN whose type is in lower case', 'cn=Lena,UID=lena01', 'Lena'],
    ['the first CN in printed order', 'CN=Heidi,CN=Users', 'Heidi'],
    ['the UID without a CN', 'UID=ivan01,O=Example Org', 'ivan01'],
    ['the UID when the CN is blank', 'CN=\\ ,UID=judy01', 'judy01'],
    [
      'the email without CN or UID',
      'emailAddress=ken@example.org,O=Example Org',
      'ken@example.org',
    ],
    ['the subject DN text without CN, UID or email', 'O=Example Org,C=DE', 'O=Example Org,C=DE'],
  ])('names the holder by %s', (_case, subjectDn, name) => {
    const identity = read({ 'x-ssl-client-s-dn': subjectDn, 'x-ssl-client-cert': undefined });

    expect(identity.name).toBe(name);
  });

  it('reads empty optional headers as absent, since nginx never sends empty ones', () => {
    const identity = read({
      'x-ssl-client-i-dn': '',
      'x-ssl-client-serial': '',
      'x-ssl-client-fingerprint': '',
      'x-ssl-client-cert': '',
    });

    expect(identity.id).toBe(sha256Prefix(plain['x-ssl-client-s-dn'] as string));
    expect(Object.keys(identity)).toEqual(['id', 'name', 'email', 'subjectDn', 'attributes']);
  });

  it('prefers the emailAddress attribute to the subjectAltName email', () => {
    const san = loadFixture('san.json');
    const identity = expectHolder(
      reader.read(NGINX_PEER, {
        ...san,
        'x-ssl-client-s-dn': 'emailAddress=dn@example.org,CN=Dave',
      }),
    );

    expect(identity.email).toBe('dn@example.org');
  });

  it('reads a holder seen before again when any identity header differs', () => {
    const once = createIdentityReader(identitySettings());
    const san = loadFixture('san.json');
    const withCertificate = expectHolder(once.read(NGINX_PEER, san));
    const withoutCertificate = expectHolder(
      once.read(NGINX_PEER, { ...san, 'x-ssl-client-cert': undefined }),
    );
    const otherSerial = expectHolder(
      once.read(NGINX_PEER, { ...san, 'x-ssl-client-serial': '01' }),
    );

    expect(withCertificate.email).toBe('dave@example.org');
    expect(withoutCertificate.email).toBeUndefined();
    expect(otherSerial.id).not.toBe(withCertificate.id);
    expect(expectHolder(once.read(NGINX_PEER, san))).toEqual(withCertificate);
  });

  it('reads identity headers under configured names and lists them for stripping', () => {
    const custom = createIdentityReader(
      identitySettings({ subjectDnHeader: 'X-Client-DN', verifyHeader: 'X-Client-Verify' }),
    );
    const headers = { 'x-client-verify': 'SUCCESS', 'x-client-dn': 'CN=Olivia' };

    expect(expectHolder(custom.read(NGINX_PEER, headers)).name).toBe('Olivia');
    expect(custom.headerNames).toEqual(expect.arrayContaining(['x-client-dn', 'x-client-verify']));
    expect(custom.read(STRANGER, headers)).toEqual({ kind: 'guest', reason: 'untrusted-peer' });
  });

  it('marks for removal every spelling of a configured or X-SSL-Client- name, and nothing else', () => {
    const custom = createIdentityReader(
      identitySettings({ subjectDnHeader: 'Ssl-Subject', verifyHeader: 'Client-Verify' }),
    );
    const removed = [
      'Ssl-Subject',
      'SSL_SUBJECT',
      'client-verify',
      'CLIENT_VERIFY',
      'X-SSL-Client-Anything',
      'x_ssl_client_s_dn',
    ];
    const kept = ['Host', 'Cookie', 'Ssl-Subject-X', 'X-Client-Verify', '_ssl-subject', ''];
    // The Kelvin sign lower-cases to an ASCII k: a name spelled with it is still the name.
    const kelvin = createIdentityReader(identitySettings({ subjectDnHeader: 'K-Client-DN' }));
    expect(kelvin.isIdentityHeader('\u212a-client-dn')).toBe(true);

    expect(removed.filter((name) => !custom.isIdentityHeader(name))).toEqual([]);
    expect(kept.filter((name) => custom.isIdentityHeader(name))).toEqual([]);
  });
});
