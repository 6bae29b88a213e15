import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { readCertificate, readSubjectAltNameEmails } from '../../../src/identity/certificate.js';

const HEADER = 'x-ssl-client-cert';
const FIXTURES = new URL('../../fixtures/nginx-headers/', import.meta.url);

function fixtureCertificate(name: string): string {
  const fixture = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as {
    headers: Record<string, string>;
  };
  return fixture.headers[HEADER] ?? '';
}

/** nginx escapes a PEM exactly as encodeURIComponent does (checked against the fixtures). */
function escapeLikeNginx(pem: string): string {
  return encodeURIComponent(pem);
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

// Made with `openssl req -x509` from configs whose subjectAltName sections are, in order:
// DNS eve.example.org, email "eve,x@example.org", email eve2@example.org,
// otherName 1.2.3.4;UTF8:a,b, email zo\u00eb@example.org (UTF-8 in an IA5String).
const QUOTED_EMAILS_PEM = `-----BEGIN CERTIFICATE-----
MIIBsjCCAVigAwIBAgIUH3XZQjExMVsAnq0dqM0ATR2lZ9AwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKRXZlIFF1b3RlZDAgFw0yNjEyMDMxODEzNTdaGA8yMTI2MTEw
OTE4MTM1N1owFTETMBEGA1UEAwwKRXZlIFF1b3RlZDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABLnnq/t+LK+6QChBscgoNdUgevZA4E2rO2f1LfkgvUaoCHqb+Lec
o+wKCHS8iD7E/A16gXP98bbA5/+/6GEaqTijgYMwgYAwXwYDVR0RBFgwVoIPZXZl
LmV4YW1wbGUub3JngRFldmUseEBleGFtcGxlLm9yZ4EQZXZlMkBleGFtcGxlLm9y
Z6AMBgMqAwSgBQwDYSxigRB6b8OrQGV4YW1wbGUub3JnMB0GA1UdDgQWBBThL4g2
zOwnGnJeuJ5jwjAmesYfqTAKBggqhkjOPQQDAgNIADBFAiBtHb1RKewKFdTKbSj2
Wq/8EFza3gMaiKskfcMpYkVjOwIhAL+1Hfl+Qx/VJ0qU5GGPTdUr2exbmsS37znw
/ZVyVz6h
-----END CERTIFICATE-----
`;
// dirName O=Example\, Inc.+CN=Rita, IP 2001:db8::1, email ritaq@example.org, email rita@example.org.
const DIRNAME_PEM = `-----BEGIN CERTIFICATE-----
MIIBwjCCAWigAwIBAgIUaoai41/zAANqbF7tfomIirVNpfQwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMUml0YSBEaXJuYW1lMCAXDTI2MTIwMzE4MTQwM1oYDzIxMjYx
MTA5MTgxNDAzWjAXMRUwEwYDVQQDDAxSaXRhIERpcm5hbWUwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAAS556v7fiyvukAoQbHIKDXVIHr2QOBNqztn9S35IL1GqAh6
m/i3nKPsCgh0vIg+xPwNeoFz/fG2wOf/v+hhGqk4o4GPMIGMMGsGA1UdEQRkMGKk
KTAnMRYwFAYDVQQKDA1FeGFtcGxlLCBJbmMuMQ0wCwYDVQQDDARSaXRhhxAgAQ24
AAAAAAAAAAAAAAABgRFyaXRhcUBleGFtcGxlLm9yZ4EQcml0YUBleGFtcGxlLm9y
ZzAdBgNVHQ4EFgQU4S+INszsJxpyXrieY8IwJnrGH6kwCgYIKoZIzj0EAwIDSAAw
RQIhAJT2gE3GcgMcmvOsork+DaxYZTKy1C2xZKuqJLA13WwiAiBaNQ91h1hcbfuK
9HRPJu0O7xpulPO+nCaswzddcWHuPQ==
-----END CERTIFICATE-----
`;
// DNS dan.example.org only.
const DNS_ONLY_PEM = `-----BEGIN CERTIFICATE-----
MIIBZDCCAQugAwIBAgIUB0PczgXE6wcLBJ0kiRMevsNxdSYwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHRGFuIERuczAgFw0yNjEyMDMxODE0MDNaGA8yMTI2MTEwOTE4
MTQwM1owEjEQMA4GA1UEAwwHRGFuIERuczBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABLnnq/t+LK+6QChBscgoNdUgevZA4E2rO2f1LfkgvUaoCHqb+Leco+wKCHS8
iD7E/A16gXP98bbA5/+/6GEaqTijPTA7MBoGA1UdEQQTMBGCD2Rhbi5leGFtcGxl
Lm9yZzAdBgNVHQ4EFgQU4S+INszsJxpyXrieY8IwJnrGH6kwCgYIKoZIzj0EAwID
RwAwRAIgObvM4tpnEsEk3GBMgdc4faJtXRfDW3q+wwOU/quhpbcCIBW6Veph+jUo
SH/f5Z3aC0jIKAvME0pyI+GtH1Kk7FF8
-----END CERTIFICATE-----
`;

describe('readCertificate', () => {
  it('reads the subjectAltName email of the san fixture', () => {
    expect(readCertificate(fixtureCertificate('san'), HEADER)).toEqual({
      emails: ['dave@example.org'],
    });
  });

  it('reads no email from a certificate without subjectAltName', () => {
    expect(readCertificate(fixtureCertificate('plain'), HEADER)).toEqual({ emails: [] });
  });

  it('reads no email from a subjectAltName with only a DNS name', () => {
    expect(readCertificate(escapeLikeNginx(DNS_ONLY_PEM), HEADER)).toEqual({ emails: [] });
  });

  it('reads JSON-quoted emails and skips one that is not ASCII', () => {
    expect(readCertificate(escapeLikeNginx(QUOTED_EMAILS_PEM), HEADER)).toEqual({
      emails: ['eve,x@example.org', 'eve2@example.org'],
    });
  });

  it('reads the emails after a quoted directory name and an IPv6 address', () => {
    expect(readCertificate(escapeLikeNginx(DIRNAME_PEM), HEADER)).toEqual({
      emails: ['ritaq@example.org', 'rita@example.org'],
    });
  });

  const plain = fixtureCertificate('plain');
  const san = fixtureCertificate('san');
  const broken = escapeLikeNginx(DNS_ONLY_PEM.replace('MIIBZDCC', 'MIIBZDXX'));

  it.each([
    [
      'a header over 64 KiB',
      'A'.repeat(64 * 1024 + 1),
      'is 65537 characters long, more than the 65536 allowed',
    ],
    [
      'two headers joined by Node',
      `${plain}, ${san}`,
      'has characters nginx never leaves unescaped, as when the header is sent twice',
    ],
    [
      'an unescaped PEM',
      decodeURIComponent(plain),
      'has characters nginx never leaves unescaped, as when the header is sent twice',
    ],
    ['a broken percent-escape', plain.replace('%0A', '%ZZ'), 'has a broken percent-escape'],
    ['text that is not PEM', 'hello', 'does not hold exactly one PEM certificate'],
    ['two certificates', `${plain}${san}`, 'does not hold exactly one PEM certificate'],
    [
      'a private key',
      escapeLikeNginx('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
      'does not hold exactly one PEM certificate',
    ],
    ['DER that is not a certificate', broken, 'does not hold a certificate that can be parsed'],
  ])('refuses %s with CERT_MALFORMED', (_case, escaped, problem) => {
    const error = caught(() => readCertificate(escaped, HEADER));

    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      code: 'CERT_MALFORMED',
      message: `certificate: header x-ssl-client-cert ${problem}`,
    });
    expect((error as GatewayError).message).not.toContain('MII');
  });

  it('refuses a subjectAltName that does not read as Node prints it with CERT_MALFORMED', () => {
    const getter = vi
      .spyOn(X509Certificate.prototype, 'subjectAltName', 'get')
      .mockReturnValue('email:"unterminated');
    try {
      const error = caught(() => readCertificate(fixtureCertificate('san'), HEADER));

      expect(error).toMatchObject({
        code: 'CERT_MALFORMED',
        message: 'certificate: header x-ssl-client-cert has a subjectAltName that cannot be read',
      });
    } finally {
      getter.mockRestore();
    }
  });

  it('keeps the parser error as the cause of an unparsable certificate', () => {
    const error = caught(() => readCertificate(broken, HEADER));

    expect((error as GatewayError).cause).toBeInstanceOf(Error);
  });
});

describe('readSubjectAltNameEmails', () => {
  it.each([
    ['no subjectAltName', undefined, []],
    [
      'an email and a DNS name',
      'email:dave@example.org, DNS:dave.example.org',
      ['dave@example.org'],
    ],
    [
      'a JSON-quoted email',
      'DNS:a, email:"a\\u002cb@x.org", email:c@x.org',
      ['a,b@x.org', 'c@x.org'],
    ],
    ['an escaped quote', 'email:"q\\"uote@x.org"', ['q"uote@x.org']],
    ['an entry quoted whole', '"othername:UPN::a@b, c", email:e@x.org', ['e@x.org']],
    [
      'a quoted directory name',
      'DirName:"CN=Rita\\u002cO=Example\\\\\\u002c Inc.", email:r@x.org',
      ['r@x.org'],
    ],
    ['an IPv6 address', 'IP Address:2001:DB8:0:0:0:0:0:1, email:r@x.org', ['r@x.org']],
    ['an email that is not ASCII', 'email:"zo\\u00c3\\u00ab@example.org"', []],
    ['an empty email', 'email:, email:f@x.org', ['f@x.org']],
  ])('reads the emails from %s', (_case, text, emails) => {
    expect(readSubjectAltNameEmails(text)).toEqual(emails);
  });

  it.each([
    ['an unterminated JSON string', 'email:"unterminated'],
    ['an entry without a type', 'nocolon'],
    ['an entry straight after a JSON string', 'email:"a@x.org"DNS:x.org'],
    ['a whole-quoted entry without a type', '"no type here"'],
  ])('gives up on %s', (_case, text) => {
    expect(readSubjectAltNameEmails(text)).toBeUndefined();
  });
});
